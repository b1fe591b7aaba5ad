//go:build puente_testparams

package shards

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/puente-id/puente/he/hetest"
	"github.com/puente-id/puente/internal/servetest"
	"github.com/puente-id/puente/shard"
	"github.com/puente-id/puente/shard/shardtest"
)

// The two-node harness of tests/, reduced to what the sharded scenario needs: nodes as `puente
// serve` processes with their own homes, talking over gRPC with mutual TLS on loopback.

// node is one node's home and, while it serves, its `puente serve` process.
type node struct {
	name, home, addr string
	metrics          string // the node's metrics endpoint
	serve            *exec.Cmd
	log              *servetest.Log
}

// freeAddr returns a loopback address with a port free at the time of the call.
func freeAddr(t *testing.T) string { return servetest.FreeAddr(t) }

// must runs puente and fails the test unless it exits 0.
func must(t *testing.T, args ...string) string {
	t.Helper()
	out, err := try(args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// try runs puente and returns its output, or an error with its output unless it exits 0. It may
// be called from any goroutine.
func try(args ...string) (string, error) { return servetest.Run(puente, args...) }

func newNode(t *testing.T, dir, name string) *node {
	t.Helper()
	n := &node{name: name, home: filepath.Join(dir, name), addr: freeAddr(t), metrics: freeAddr(t)}
	must(t, "init", "-home", n.home, "-test-node", "-listen", n.addr, "-metrics", n.metrics, name)
	return n
}

// metric returns the sum of the samples of the node's metrics whose line starts with prefix.
func (n *node) metric(t *testing.T, prefix string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + n.metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, prefix); ok {
			f := strings.Fields(rest)
			v, err := strconv.ParseFloat(f[len(f)-1], 64)
			if err != nil {
				t.Fatalf("metric line %q: %v", l, err)
			}
			sum += v
		}
	}
	return sum
}

// link makes b a partner of a under agreement us-co, as an operator does.
func link(t *testing.T, a, b *node) {
	t.Helper()
	out := must(t, "partner", "add", "-home", a.home, "-card", filepath.Join(b.home, "card.json"), "-agreement", "us-co",
		"-address", b.addr, "-he-params", "INSECURE-test-n12", "-threshold", "0.9", "-quota", "1000 per 24h")
	i := strings.Index(out, "partner \"")
	if i < 0 {
		t.Fatalf("partner add printed no policy block:\n%s", out)
	}
	f, err := os.OpenFile(filepath.Join(a.home, "policy.hcl"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString("\n" + out[i:])
}

// start runs `puente serve` and returns once it serves (servetest.Start: its serving line, then
// its operator socket answers).
func (n *node) start(t *testing.T) {
	t.Helper()
	n.serve = exec.Command(puente, "serve", "-home", n.home)
	n.log = servetest.Start(t, n.name, n.serve, filepath.Join(n.home, "run", "admin.sock"))
	t.Cleanup(func() { n.stop(t) })
}

func (n *node) stop(t *testing.T) {
	t.Helper()
	if n.serve == nil {
		return
	}
	n.serve.Process.Signal(syscall.SIGTERM)
	if err := n.serve.Wait(); err != nil {
		t.Errorf("%s serve exited with %v:\n%s", n.name, err, n.log)
	}
	n.serve = nil
}

// matchLine is one line of `puente search -json`.
type matchLine struct {
	Row   int    `json:"row"`
	Hit   bool   `json:"hit"`
	Error string `json:"error"`
}

// writeNPY writes rows as a NumPy v1.0 .npy file of little-endian float32.
func writeNPY(t *testing.T, path string, rows [][]float64) string {
	t.Helper()
	hdr := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", len(rows), len(rows[0]))
	hdr += strings.Repeat(" ", 64-(10+len(hdr)+1)%64) + "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(hdr)))
	b.WriteString(hdr)
	for _, r := range rows {
		for _, v := range r {
			binary.Write(&b, binary.LittleEndian, float32(v))
		}
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// search runs `puente search -json` from q for the probes in file.
func search(t *testing.T, q *node, file string) []matchLine {
	t.Helper()
	return matchLines(t, must(t, "search", "-home", q.home, "-partner", "co-migracion", "-json", file))
}

// verify runs `puente verify` of every probe in file against co-migracion's reference label.
func verify(t *testing.T, q *node, label, file string) []matchLine {
	t.Helper()
	return matchLines(t, must(t, "verify", "-home", q.home, "-partner", "co-migracion", "-reference", label, "-json", file))
}

// verifyLabel returns the Verify label that `puente enroll -labels` wrote for ref.
func verifyLabel(t *testing.T, labels, ref string) string {
	t.Helper()
	b, err := os.ReadFile(labels)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Split(line, "\t"); len(f) == 2 && f[0] == ref {
			return f[1]
		}
	}
	t.Fatalf("%s has no label for %s", labels, ref)
	return ""
}

func matchLines(t *testing.T, out string) []matchLine {
	t.Helper()
	var ls []matchLine
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var m matchLine
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("puente output %q: %v", l, err)
		}
		ls = append(ls, m)
	}
	return ls
}

// status returns n's `puente status -json`.
func status(t *testing.T, n *node) statusJSON {
	t.Helper()
	var st statusJSON
	if err := json.Unmarshal([]byte(must(t, "status", "-home", n.home, "-json")), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// statusJSON is the part of `puente status -json` the sharded test reads.
type statusJSON struct {
	Partners []struct {
		QuotaUsed int `json:"quota_used"`
	} `json:"partners"`
	Shards []struct {
		Address    string `json:"address"`
		Serving    bool   `json:"serving"`
		Error      string `json:"error"`
		Epoch      uint64 `json:"epoch"`
		Generation uint64 `json:"generation"`
		Entries    uint64 `json:"entries"`
	} `json:"shards"`
}

// TestShardedEndToEnd: the responder's node (co-migracion) moves its gallery to four `puente
// shard` processes; the querier's searches (mated and non-mated) and verifications decide as they
// did against the single process; the partner's protocol is unchanged. A shard killed (SIGKILL)
// while it counts makes the search fail with an error, never a no-hit; after its restart searches
// succeed again; a rebalance to five shards keeps every decision; an enrolment reaches the owning
// shard alone.
func TestShardedEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("two nodes and four shard processes")
	}
	dir := t.TempDir()
	us, co := newNode(t, dir, "us-cbp"), newNode(t, dir, "co-migracion")
	link(t, us, co)
	link(t, co, us)
	us.start(t)
	co.start(t)
	must(t, "ceremony", "-home", us.home, "-partner", "co-migracion")
	// co-migracion's gallery: 300 raw feature vectors. Probes: two of them with a little noise
	// (mated), two fresh vectors (non-mated).
	rng := rand.New(rand.NewPCG(9, 9))
	gal := hetest.GaussianVectors(rng, 300, 128)
	labels := filepath.Join(dir, "labels.tsv")
	must(t, "enroll", "-home", co.home, "-partner", "us-cbp", "-labels", labels, writeNPY(t, filepath.Join(dir, "gal.npy"), gal))
	var probes [][]float64
	for _, r := range []int{3, 250} {
		p := append([]float64(nil), gal[r]...)
		for i := range p {
			p[i] += 0.001 * rng.NormFloat64()
		}
		probes = append(probes, p)
	}
	probes = append(probes, hetest.GaussianVectors(rng, 2, 128)...)
	want := []bool{true, true, false, false}
	probeFile := writeNPY(t, filepath.Join(dir, "probes.npy"), probes)
	single := search(t, us, probeFile)
	for i := range single {
		if single[i].Hit != want[i] || single[i].Error != "" {
			t.Fatalf("single process: probe %d hit=%v (error %q), want %v", i, single[i].Hit, single[i].Error, want[i])
		}
	}
	// Verify against row 3's reference: the probe mated with it, and a non-mated one.
	label3 := verifyLabel(t, labels, "row-3")
	verifyFile := writeNPY(t, filepath.Join(dir, "verify.npy"), [][]float64{probes[0], probes[2]})
	singleVerify := verify(t, us, label3, verifyFile)
	if len(singleVerify) != 2 || !singleVerify[0].Hit || singleVerify[1].Hit || singleVerify[0].Error != "" || singleVerify[1].Error != "" {
		t.Fatalf("single process: verify of row 3 gave %+v, want hit then no-hit", singleVerify)
	}

	// Four shards, and co-migracion's configuration names them.
	srv, cli := shardtest.PKI(t, dir)
	var procs []*shardtest.Proc
	var addrs []string
	for i := 0; i < 4; i++ {
		p := &shardtest.Proc{Bin: puente, Dir: filepath.Join(dir, fmt.Sprintf("shard-%d", i)), TLS: srv}
		p.Start(t)
		procs, addrs = append(procs, p), append(addrs, fmt.Sprintf("%q", p.Addr))
	}
	co.stop(t)
	confPath := filepath.Join(co.home, "puente.hcl")
	conf, err := os.ReadFile(confPath)
	if err != nil {
		t.Fatal(err)
	}
	setShards := func(addrs []string) {
		block := fmt.Sprintf("\nshards {\n  addresses = [%s]\n  timeout = \"300s\"\n  tls {\n    cert = %q\n    key = %q\n    ca = %q\n  }\n}\n",
			strings.Join(addrs, ", "), cli.Cert, cli.Key, cli.CA)
		if err := os.WriteFile(confPath, append(append([]byte(nil), conf...), block...), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	setShards(addrs)
	co.start(t)

	sharded := search(t, us, probeFile)
	for i := range sharded {
		if sharded[i].Hit != single[i].Hit || sharded[i].Error != "" {
			t.Errorf("probe %d: sharded hit=%v (error %q), single process hit=%v", i, sharded[i].Hit, sharded[i].Error, single[i].Hit)
		}
	}
	for i, l := range verify(t, us, label3, verifyFile) {
		if l.Hit != singleVerify[i].Hit || l.Error != "" {
			t.Errorf("verify probe %d with shards: hit=%v (error %q), single process hit=%v", i, l.Hit, l.Error, singleVerify[i].Hit)
		}
	}
	st := status(t, co)
	total := uint64(0)
	for _, sh := range st.Shards {
		if !sh.Serving || sh.Error != "" || sh.Epoch != 1 {
			t.Errorf("status: shard %+v", sh)
		}
		total += sh.Entries
	}
	if len(st.Shards) != 4 || total != uint64(len(gal)) {
		t.Errorf("status lists %d shards holding %d entries; want 4 holding the %d enrolled", len(st.Shards), total, len(gal))
	}

	// SIGKILL of a shard while it counts: an error, never a no-hit.
	victim := procs[1]
	type result struct {
		out string
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := try("search", "-home", us.home, "-partner", "co-migracion", "-json", writeNPY(t, filepath.Join(dir, "one.npy"), probes[:1]))
		done <- result{out, err}
	}()
	<-victim.Counting
	victim.Kill()
	r := <-done
	for _, l := range strings.Split(strings.TrimSpace(r.out), "\n") {
		var m matchLine
		if json.Unmarshal([]byte(l), &m) == nil && m.Error == "" {
			t.Fatalf("search with a shard killed answered hit=%v: %s", m.Hit, l)
		}
	}
	if r.err == nil && !strings.Contains(r.out, "error") {
		t.Fatalf("search with a shard killed: no error: %s", r.out)
	}
	t.Logf("search with a shard killed: %v %s", r.err, strings.TrimSpace(r.out))
	// The node's metrics count, per shard, the counts it asked for: shard 0 answered every
	// sharded search so far, the killed shard 1 failed the last one.
	if ok := co.metric(t, `puente_shard_calls_total{call="count",code="OK",shard="0"}`); ok < float64(len(probes)) {
		t.Errorf("co-migracion counts %v answered counts of shard 0, want at least %d", ok, len(probes))
	}
	if bad := co.metric(t, `puente_shard_calls_total{call="count",code="Unavailable",shard="1"}`); bad < 1 {
		t.Errorf("co-migracion counts %v failed counts of the killed shard 1, want at least 1", bad)
	}
	// The failed query is audited as failed and gives its quota back: only the 2·len(probes)
	// answered searches and the four verifications count.
	st2 := status(t, co)
	if answered := 2*len(probes) + 4; len(st2.Partners) != 1 || st2.Partners[0].QuotaUsed != answered {
		t.Errorf("after the failed search co-migracion counts %+v queries of us-cbp's quota, want %d", st2.Partners, answered)
	}
	if b, err := os.ReadFile(filepath.Join(co.home, "audit.log")); err != nil {
		t.Fatal(err)
	} else if !strings.Contains(string(b), `"shards-installed"`) || !strings.Contains(string(b), `"failed"`) {
		t.Errorf("co-migracion's audit log records no shard install or no failed query")
	}

	// Restarted on its address, with its partition on disk: searches succeed.
	victim.Start(t)
	again := search(t, us, writeNPY(t, filepath.Join(dir, "one.npy"), probes[:1]))
	if again[0].Hit != single[0].Hit || again[0].Error != "" {
		t.Errorf("after restart: hit=%v (error %q), single process %v", again[0].Hit, again[0].Error, single[0].Hit)
	}

	// A shard that comes back with an empty volume: the next search fails (never a no-hit), and
	// the one after finds the partition installed again.
	victim.Kill()
	if err := os.RemoveAll(victim.Dir); err != nil {
		t.Fatal(err)
	}
	victim.Start(t)
	one := writeNPY(t, filepath.Join(dir, "one.npy"), probes[:1])
	if out, err := try("search", "-home", us.home, "-partner", "co-migracion", "-json", one); err == nil || !strings.Contains(out, `"error"`) {
		t.Fatalf("search with a shard on an empty volume: %s %v, want an error", out, err)
	}
	if again := search(t, us, one); again[0].Hit != single[0].Hit || again[0].Error != "" {
		t.Errorf("after the reinstall: hit=%v (error %q), single process %v", again[0].Hit, again[0].Error, single[0].Hit)
	}

	// Rebalance from four shards to five: the node stopped, a fifth shard, the configuration
	// names five, `puente shards rebalance` installs; every entry is held once, and searches
	// decide as before.
	co.stop(t)
	p5 := &shardtest.Proc{Bin: puente, Dir: filepath.Join(dir, "shard-4"), TLS: srv}
	p5.Start(t)
	setShards(append(addrs, fmt.Sprintf("%q", p5.Addr)))
	if out := must(t, "shards", "rebalance", "-home", co.home); !strings.Contains(out, "300 entries on 5 shards") {
		t.Errorf("rebalance printed %q", out)
	}
	st5 := status(t, co)
	total = 0
	for _, sh := range st5.Shards {
		if !sh.Serving || sh.Error != "" || sh.Epoch != 1 {
			t.Errorf("after rebalance: shard %+v", sh)
		}
		total += sh.Entries
	}
	if len(st5.Shards) != 5 || total != uint64(len(gal)) {
		t.Errorf("after rebalance %d shards hold %d entries; want 5 holding %d", len(st5.Shards), total, len(gal))
	}
	co.start(t)
	for i, l := range search(t, us, probeFile) {
		if l.Hit != single[i].Hit || l.Error != "" {
			t.Errorf("5 shards: probe %d hit=%v (error %q), single process %v", i, l.Hit, l.Error, single[i].Hit)
		}
	}

	// An enrolment reaches the owning shard alone: the next search installs one partition (the
	// audit log names each shard a partition was sent to), and decides as before.
	shardAddrs := append(append([]string(nil), addrs...), fmt.Sprintf("%q", p5.Addr))
	before := installsPerShard(t, co.home, shardAddrs)
	extra := hetest.GaussianVectors(rng, 1, 128)
	must(t, "enroll", "-home", co.home, "-partner", "us-cbp", "-ref-prefix", "extra-", writeNPY(t, filepath.Join(dir, "extra.npy"), extra))
	for i, l := range search(t, us, probeFile) {
		if l.Hit != single[i].Hit || l.Error != "" {
			t.Errorf("after an enrolment: probe %d hit=%v (error %q), single process %v", i, l.Hit, l.Error, single[i].Hit)
		}
	}
	after := installsPerShard(t, co.home, shardAddrs)
	owner := shard.Owner("extra-0", len(shardAddrs))
	for i := range shardAddrs {
		if got, want := after[i]-before[i], map[bool]int{true: 1, false: 0}[i == owner]; got != want {
			t.Errorf("after enrolling extra-0 (owned by shard %d): shard %d was sent %d partitions, want %d", owner, i, got, want)
		}
	}
	us.stop(t)
	co.stop(t)
	must(t, "audit", "verify", "-home", co.home)
}

// installsPerShard counts, per shard address (quoted, as in puente.hcl), the partitions the
// node's audit log records as sent to it.
func installsPerShard(t *testing.T, home string, quoted []string) []int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(home, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]int, len(quoted))
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.Contains(line, `"shards-installed"`) {
			continue
		}
		for i, q := range quoted {
			if strings.Contains(line, `"shard":`+q) {
				out[i]++
			}
		}
	}
	return out
}
