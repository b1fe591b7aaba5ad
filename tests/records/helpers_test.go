//go:build puente_testparams

package records

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The helpers of the tests of a node's records (audit log, state, gallery) over two nodes on
// loopback, on the INSECURE N = 2^11 set and the demo's synthetic data. Those tests run in
// parallel with each other (each has its own homes and ports), after the package's other tests.

// recordsParams is the HE parameter set of the records tests: the smallest, since they test
// files and processes, not the cryptography.
const recordsParams = "INSECURE-test-n11"

// recordsPair makes us-cbp and co-migracion, links them, writes 16 synthetic subjects to
// dir/data and starts both nodes. With ready, it also runs the key ceremony and has
// co-migracion enrol the 16 subjects for us-cbp.
func recordsPair(t *testing.T, ready bool) (us, co *node, data string) {
	t.Helper()
	return recordsPairOf(t, 16, ready)
}

// recordsPairOf is recordsPair with another number of synthetic subjects.
func recordsPairOf(t *testing.T, subjects int, ready bool) (us, co *node, data string) {
	t.Helper()
	dir := t.TempDir()
	data = filepath.Join(dir, "data")
	must(t, "demo", "-write-data", data, "-gallery", strconv.Itoa(subjects))
	us, co = newNode(t, dir, "us-cbp"), newNode(t, dir, "co-migracion")
	link(t, us, co, "1000 per 24h")
	link(t, co, us, "1000 per 24h")
	us.start(t)
	co.start(t)
	if ready {
		must(t, "ceremony", "-home", us.home, "-partner", co.name)
		must(t, "enroll", "-home", co.home, "-partner", us.name, "-refs", filepath.Join(data, "gallery.refs"), filepath.Join(data, "gallery.json"))
	}
	return us, co, data
}

// result is how a puente command ended.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string { return r.stdout + r.stderr }

// runPuente runs puente to its end (at most five minutes) and returns its output and exit code.
func runPuente(t *testing.T, args ...string) result {
	t.Helper()
	return runPuenteWithin(t, 5*time.Minute, args...)
}

// runPuenteWithin is runPuente with another limit; a command still running then is killed
// (exit code -1).
func runPuenteWithin(t *testing.T, limit time.Duration, args ...string) result {
	t.Helper()
	return runPuenteIn(t, limit, nil, args...)
}

// runPuenteEnv is runPuente with env added to the command's environment (PUENTE_TEST_CRASH); a
// command that killed itself at its crash point exits with -1.
func runPuenteEnv(t *testing.T, env []string, args ...string) result {
	t.Helper()
	return runPuenteIn(t, 5*time.Minute, env, args...)
}

func runPuenteIn(t *testing.T, limit time.Duration, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, puente, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("puente %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// expect runs puente and fails the test unless it exits with code and its output contains
// every one of wants.
func expect(t *testing.T, code int, wants []string, args ...string) result {
	t.Helper()
	r := runPuente(t, args...)
	if r.code != code {
		t.Fatalf("puente %s exited with %d, want %d:\n%s", strings.Join(args, " "), r.code, code, r)
	}
	for _, w := range wants {
		if !strings.Contains(r.String(), w) {
			t.Fatalf("puente %s: output does not contain %q:\n%s", strings.Join(args, " "), w, r)
		}
	}
	return r
}

// serveRefused runs `puente serve` and checks that it refuses to start (exit 1) with every one
// of wants in its output. A serve that starts instead is stopped after two minutes (exit -1).
func serveRefused(t *testing.T, n *node, wants ...string) string {
	t.Helper()
	r := runPuenteWithin(t, 2*time.Minute, "serve", "-home", n.home)
	if r.code != 1 {
		t.Fatalf("puente serve -home %s exited with %d, want a refusal (1):\n%s", n.home, r.code, r)
	}
	for _, w := range wants {
		if !strings.Contains(r.String(), w) {
			t.Fatalf("puente serve -home %s: output does not contain %q:\n%s", n.home, w, r)
		}
	}
	return r.String()
}

// auditRec is the part of an audit record the tests read.
type auditRec struct {
	Seq      uint64 `json:"seq"`
	Node     string `json:"node"`
	Kind     string `json:"kind"`
	Partner  string `json:"partner"`
	Role     string `json:"role"`
	Request  string `json:"request"`
	Outcome  string `json:"outcome"`
	Decision string `json:"decision"`
	Refusal  string `json:"refusal"`
	Epoch    uint64 `json:"epoch"`
	Action   string `json:"action"`
	Key      string `json:"key"`
	KeyID    string `json:"key_id"`
	// Recovered marks a key record written when the node next opened its home, for an action
	// a crash left unrecorded.
	Recovered bool   `json:"recovered"`
	Count     uint64 `json:"count"`
	Source    string `json:"source"`
	Time      string `json:"time"`
	Witness   *struct {
		Head string `json:"head"`
	} `json:"witness"`
	Gallery *struct {
		Enrolled uint64 `json:"enrolled"`
		Skipped  uint64 `json:"skipped"`
		Removed  uint64 `json:"removed"`
		Total    uint64 `json:"total"`
		Change   uint64 `json:"change"`
	} `json:"gallery"`
}

// auditLog reads a node's audit log.
func auditLog(t *testing.T, n *node) []auditRec {
	t.Helper()
	f, err := os.Open(filepath.Join(n.home, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []auditRec
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	for sc.Scan() {
		var r auditRec
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%s audit log: %v", n.name, err)
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// actions counts the actions of a node's audit records.
func actions(t *testing.T, n *node) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, r := range auditLog(t, n) {
		if r.Action != "" {
			out[r.Action]++
		}
	}
	return out
}

// status reads `puente status -json`.
type nodeStatus struct {
	Partners []struct {
		Partner      string `json:"partner"`
		Epoch        uint64 `json:"epoch"`
		Enrolled     int    `json:"enrolled"`
		GalleryEpoch uint64 `json:"gallery_epoch"`
		QuotaUsed    int    `json:"quota_used"`
	} `json:"partners"`
}

func status(t *testing.T, n *node) nodeStatus {
	t.Helper()
	var st nodeStatus
	if err := json.Unmarshal([]byte(must(t, "status", "-home", n.home, "-json")), &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Partners) != 1 {
		t.Fatalf("%s status: %+v", n.name, st)
	}
	return st
}

// lines of a file, without the trailing newline of the last.
func fileLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.SplitAfter(strings.TrimSuffix(string(b), "\n"), "\n")
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// queryRecords groups a node's query records with partner by request ID.
func queryRecords(t *testing.T, n *node, partner, role string) map[string][]auditRec {
	t.Helper()
	out := map[string][]auditRec{}
	for _, r := range auditLog(t, n) {
		if r.Kind == "query" && r.Partner == partner && r.Role == role {
			out[r.Request] = append(out[r.Request], r)
		}
	}
	return out
}

// final returns the outcome of a query's records on one side: its final record's, "pending"
// when only the pending record is there, "" when there is none; it fails the test unless the
// records are a pending one followed by at most one final one.
func final(t *testing.T, side, id string, recs []auditRec) string {
	t.Helper()
	switch {
	case len(recs) == 0:
		return ""
	case recs[0].Outcome != "pending" || len(recs) > 2 || len(recs) == 2 && recs[1].Outcome == "pending":
		t.Errorf("%s: request %s has records %+v, want a pending one and at most one final one", side, id, recs)
		return "bad"
	case len(recs) == 1:
		return "pending"
	}
	return recs[1].Outcome
}

// checkPairs checks that every query q made of r left matching records on both sides: the
// querier recorded each query (pending first) before the responder saw it, the responder's
// records carry the querier's request IDs, an answer the querier recorded was recorded as
// answered by the responder first, and (after restarts) no query is left pending on either
// side. It returns how many queries the responder answered.
func checkPairs(t *testing.T, q, r *node) int {
	t.Helper()
	qs, rs := queryRecords(t, q, r.name, "querier"), queryRecords(t, r, q.name, "responder")
	answered := 0
	for id, recs := range rs {
		ro := final(t, r.name, id, recs)
		qo := final(t, q.name, id, qs[id])
		switch {
		case qo == "":
			t.Errorf("request %s in %s's log (%s) but not in %s's", id, r.name, ro, q.name)
		case ro == "pending" || qo == "pending":
			t.Errorf("request %s still pending after the restarts: %s %s, %s %s", id, q.name, qo, r.name, ro)
		case qo == "answered" && ro != "answered":
			t.Errorf("request %s: %s recorded an answer, %s recorded %s", id, q.name, r.name, ro)
		}
		if ro == "answered" {
			answered++
		}
	}
	for id, recs := range qs {
		if qo := final(t, q.name, id, recs); qo == "answered" && len(rs[id]) == 0 {
			t.Errorf("request %s answered at %s but not in %s's log", id, q.name, r.name)
		}
	}
	return answered
}
