//go:build puente_testparams

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/puente-id/puente/he/hetest"
	"github.com/puente-id/puente/internal/servetest"
)

// servingWriter is serve's standard output in process: it keeps what serve prints in log and
// closes serving when serve prints its serving line, which it does once its operator socket is up.
type servingWriter struct {
	log     *servetest.Log
	serving chan struct{}

	mu   sync.Mutex
	seen bool
	line []byte // the line being written, while the serving line is not seen
}

func (w *servingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for rest := p; !w.seen && len(rest) > 0; {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			w.line = append(w.line, rest...)
			break
		}
		w.line = append(w.line, rest[:i]...)
		if bytes.Contains(w.line, []byte(" serving on ")) {
			w.seen = true
			close(w.serving)
		}
		w.line, rest = w.line[:0], rest[i+1:]
	}
	return w.log.Write(p)
}

// serveInProcess runs `puente serve` for home until the test ends or it calls the function
// returned, which returns once serve has exited. It returns once serve has printed its serving
// line, after which the operator socket must answer at once; a serve that exits first or prints
// no serving line within a minute fails the test.
func serveInProcess(t *testing.T, home string) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &servetest.Log{}
	out := &servingWriter{log: logs, serving: make(chan struct{})}
	var code int
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		code = run(ctx, &stdio{in: strings.NewReader(""), out: out, err: logs}, []string{"serve", "-home", home, "-log-level", "warn"})
	}()
	stop = sync.OnceFunc(func() {
		cancel()
		<-exited
		if code != exitOK {
			t.Errorf("serve %s exited %d:\n%s", home, code, logs)
		}
	})
	t.Cleanup(stop)
	select {
	case <-out.serving:
	case <-exited:
		t.Fatalf("serve %s ended before it printed its serving line", home)
	case <-time.After(time.Minute):
		t.Fatalf("serve %s printed no serving line within a minute:\n%s", home, logs)
	}
	c, err := net.Dial("unix", filepath.Join(home, "run", "admin.sock"))
	if err != nil {
		t.Fatalf("serve %s printed its serving line before its operator socket answered: %v", home, err)
	}
	c.Close()
	return stop
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// mustRun runs a command in process and fails unless it exits 0.
func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errs := runCmd(t, args...)
	if code != exitOK {
		t.Fatalf("puente %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

// TestOperatorCommands runs the operator's path in process: init, partner add, serve, ceremony,
// enroll (with labels), search, verify, protect, status, revoke; and the usual mistakes.
func TestOperatorCommands(t *testing.T) {
	dir := t.TempDir()
	us, co := filepath.Join(dir, "us"), filepath.Join(dir, "co")
	addrs := map[string]string{us: freePort(t), co: freePort(t)}
	mustRun(t, "init", "-home", us, "-test-node", "-listen", addrs[us], "us-cbp")
	mustRun(t, "init", "-home", co, "-test-node", "-listen", addrs[co], "co-migracion")
	for _, p := range [][2]string{{us, co}, {co, us}} {
		out := mustRun(t, "partner", "add", "-home", p[0], "-card", filepath.Join(p[1], "card.json"), "-agreement", "us-co",
			"-address", addrs[p[1]], "-he-params", "INSECURE-test-n11", "-threshold", "0.9")
		f, _ := os.OpenFile(filepath.Join(p[0], "policy.hcl"), os.O_APPEND|os.O_WRONLY, 0)
		f.WriteString("\n" + out[strings.Index(out, "partner \""):])
		f.Close()
	}
	// Before serving, the commands open the node in process: a search has no keys yet.
	if code, _, errs := runCmd(t, "search", "-home", us, "-partner", "co-migracion", writeJSON(t, dir, "x.json", rows(1, 1))); code != exitFailure || !strings.Contains(errs, "no key ceremony") {
		t.Errorf("search before the ceremony: exit %d %s", code, errs)
	}
	stopUS := serveInProcess(t, us)
	serveInProcess(t, co)
	if out := mustRun(t, "ceremony", "-home", us, "-partner", "co-migracion"); !strings.Contains(out, "epoch 1 of agreement us-co with co-migracion is current") {
		t.Errorf("ceremony: %s", out)
	}
	gal := rows(2, 20)
	labels := filepath.Join(dir, "labels.tsv")
	mustRun(t, "enroll", "-home", co, "-partner", "us-cbp", "-labels", labels, writeJSON(t, dir, "gal.json", gal))
	probes := writeJSON(t, dir, "probes.json", [][]float64{gal[5], rows(3, 1)[0]})
	out := mustRun(t, "search", "-home", us, "-partner", "co-migracion", probes)
	if !strings.Contains(out, "row 0: hit ") || !strings.Contains(out, "row 1: no-hit ") {
		t.Errorf("search output:\n%s", out)
	}
	lb, _ := os.ReadFile(labels)
	label := strings.Fields(strings.Split(string(lb), "\n")[5])[1]
	if out := mustRun(t, "verify", "-home", us, "-partner", "co-migracion", "-reference", label, "-rows", "0", probes); !strings.Contains(out, "row 0: hit") {
		t.Errorf("verify output: %s", out)
	}
	mustRun(t, "protect", "-home", us, "-partner", "co-migracion", probes, filepath.Join(dir, "prot.json"))
	// A bad row (a protected template of norm 2) is skipped with serve running exactly as without
	// it, and -v prints its error's cause chain either way.
	var pf protectedFile
	pb, _ := os.ReadFile(filepath.Join(dir, "prot.json"))
	if err := json.Unmarshal(pb, &pf); err != nil || len(pf.Templates) != 2 {
		t.Fatalf("prot.json: %v", err)
	}
	double := make([]float64, len(pf.Templates[0]))
	for i, x := range pf.Templates[0] {
		double[i] = 2 * x
	}
	pf.Templates = [][]float64{pf.Templates[0], double, pf.Templates[1]}
	badRows := writeJSON(t, dir, "bad-row.json", pf)
	served := badRowSearch(t, us, badRows)
	stopUS()
	inProcess := badRowSearch(t, us, badRows)
	stopUS = serveInProcess(t, us)
	if served != inProcess {
		t.Errorf("a bad row with serve running:\n%s\nwithout:\n%s", served, inProcess)
	}
	var st struct {
		Partners []struct{ Enrolled, QuotaUsed int } `json:"partners"`
	}
	json.Unmarshal([]byte(mustRun(t, "status", "-home", co, "-json")), &st)
	if len(st.Partners) != 1 || st.Partners[0].Enrolled != 20 {
		t.Errorf("status: %+v", st)
	}
	if out := mustRun(t, "revoke", "-home", us, "-partner", "co-migracion"); !strings.Contains(out, "new epoch 2") {
		t.Errorf("revoke: %s", out)
	}
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"search", "-home", us, probes}, exitUsage, "-partner is required"},
		{[]string{"search", "-home", us, "-partner", "nobody", probes}, exitFailure, `no partner "nobody"`},
		{[]string{"search", "-home", us, "-partner", "co-migracion", filepath.Join(dir, "missing.json")}, exitFailure, "missing.json"},
		{[]string{"search", "-home", us, "-partner", "co-migracion", "-rows", "7", probes}, exitFailure, "row 7"},
		{[]string{"verify", "-home", us, "-partner", "co-migracion", probes}, exitUsage, "-reference is required"},
		{[]string{"verify", "-home", us, "-partner", "co-migracion", "-reference", "v1-nope", probes}, exitFailure, "NotFound"},
		{[]string{"enroll", "-home", co, "-partner", "us-cbp", "-refs", labels, probes}, exitFailure, "labels.tsv:1: subject reference has a control character"},
		{[]string{"partner", "add", "-home", us, "-card", filepath.Join(co, "card.json"), "-agreement", "x", "-address", "h:1"}, exitFailure, "already has a partner"},
		{[]string{"init", "-home", us, "us-cbp"}, exitFailure, "already holds a node"},
		{[]string{"ceremony", "-home", filepath.Join(dir, "nowhere"), "-partner", "x"}, exitFailure, "puente.hcl"},
	} {
		code, _, errs := runCmd(t, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.msg) {
			t.Errorf("puente %s: exit %d, stderr %q; want %d and %q", strings.Join(tc.args[:1], " "), code, errs, tc.code, tc.msg)
		}
	}
}

// badRowSearch searches with -v for the probes of file, whose row 1 is bad and rows 0 and 2
// good (a hit and a no-hit), checks that the bad row was skipped and the others answered, and
// returns what the command said about each row: the decisions, the bad row's error with its
// cause chain, and the final count (without the logs, request IDs and timings, which differ from
// run to run).
func badRowSearch(t *testing.T, home, file string) string {
	t.Helper()
	code, out, errs := runCmd(t, "search", "-v", "-home", home, "-partner", "co-migracion", "-protected", file)
	if code != exitFailure || !strings.Contains(out, "row 0: hit ") || !strings.Contains(out, "row 2: no-hit ") ||
		!strings.Contains(errs, "row 1: ") || !strings.Contains(errs, "1 of 3 queries failed") {
		t.Errorf("search with a bad row 1: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if !strings.Contains(errs, "\n  caused by: he: bad template") {
		t.Errorf("search -v: the bad row's error has no cause chain down to he's ErrBadTemplate:\n%s", errs)
	}
	var said []string
	for _, l := range strings.Split(out, "\n") {
		if d, _, ok := strings.Cut(l, "  request "); ok {
			said = append(said, d)
		}
	}
	for _, l := range strings.Split(errs, "\n") {
		if strings.HasPrefix(l, "row ") || strings.HasPrefix(l, "  caused by: ") || strings.HasPrefix(l, "puente search: ") {
			said = append(said, l)
		}
	}
	return strings.Join(said, "\n")
}

func rows(seed uint64, n int) [][]float64 {
	return hetest.GaussianVectors(rand.New(rand.NewPCG(seed, 3)), n, 128)
}

func writeJSON(t *testing.T, dir, name string, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
