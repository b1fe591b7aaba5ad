//go:build puente_testparams

// Package records tests what a Puente node keeps (its audit log, its replay and quota state, its
// galleries) and the commands that change its keys, over nodes that run as separate `puente
// serve` processes on loopback with their own files, on the INSECURE N = 2^11 set: the numbered
// cases of the issue "A node's records survive crashes, restarts, tampering and operators", each
// a reproduction that failed before its fix, and a crash test. They are a package of their own,
// beside tests/, so that they have a time budget of their own.
package records

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/puente-id/puente/internal/servetest"
)

// puente is the test build of the binary (-tags puente_testparams), made once by TestMain.
var puente string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "puente-records-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	puente = filepath.Join(dir, "puente")
	build := exec.Command("go", "build", "-tags", "puente_testparams", "-o", puente, "../../cmd/puente")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building puente:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// tau is the threshold of the agreements: the demo data's (a protected score at or above it is a
// hit).
const tau = 0.9234

// node is one node's home and, while it serves, its `puente serve` process.
type node struct {
	name, home, addr string
	env              []string // added to serve's environment (PUENTE_TEST_CRASH)
	serve            *exec.Cmd
	log              *servetest.Log
}

// newNode runs `puente init` for a test node listening on a free loopback port.
func newNode(t *testing.T, dir, name string) *node {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	n := &node{name: name, home: filepath.Join(dir, name), addr: addr}
	must(t, "init", "-home", n.home, "-test-node", "-listen", n.addr, name)
	return n
}

// link makes b a partner of a under agreement us-co, with the quota of quota, as an operator
// does: `puente partner add` with b's card, and the policy block it prints added to a's policy.
func link(t *testing.T, a, b *node, quota string) {
	t.Helper()
	out := must(t, "partner", "add", "-home", a.home, "-card", filepath.Join(b.home, "card.json"), "-agreement", "us-co",
		"-address", b.addr, "-he-params", recordsParams, "-threshold", strconv.FormatFloat(tau, 'g', -1, 64), "-quota", quota)
	i := strings.Index(out, "partner \"")
	if i < 0 {
		t.Fatalf("partner add printed no policy block:\n%s", out)
	}
	pol := filepath.Join(a.home, "policy.hcl")
	b0, err := os.ReadFile(pol)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, pol, string(b0)+"\n"+out[i:])
}

// start runs `puente serve` for the node and returns once it serves (servetest.Start: its
// serving line, then its operator socket answers).
func (n *node) start(t *testing.T) {
	t.Helper()
	n.serve = exec.Command(puente, "serve", "-home", n.home)
	n.serve.Env = append(os.Environ(), n.env...)
	n.log = servetest.Start(t, n.name, n.serve, filepath.Join(n.home, "run", "admin.sock"))
	t.Cleanup(func() { n.stop(t) })
}

// stop sends SIGTERM to the node's serve process and waits (two minutes at most) for it to exit
// cleanly.
func (n *node) stop(t *testing.T) {
	t.Helper()
	if n.serve == nil {
		return
	}
	n.serve.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- n.serve.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("%s serve exited with %v:\n%s", n.name, err, n.log)
		}
	case <-time.After(2 * time.Minute):
		n.serve.Process.Kill()
		<-done
		t.Errorf("%s serve did not stop within two minutes of SIGTERM", n.name)
	}
	n.serve = nil
}

// must runs puente and fails the test unless it exits 0; it returns its standard output.
func must(t *testing.T, args ...string) string {
	t.Helper()
	r := runPuente(t, args...)
	if r.code != 0 {
		t.Fatalf("puente %s: exit %d\n%s", strings.Join(args, " "), r.code, r)
	}
	return r.stdout
}

// waitGalleryEpoch waits (a minute at most) until the node reports its agreement at epoch and its
// gallery re-protected under it (which it does in the background after a ceremony).
func waitGalleryEpoch(t *testing.T, n *node, epoch uint64) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if p := status(t, n).Partners[0]; p.Epoch == epoch && p.GalleryEpoch == epoch {
			return
		}
	}
	t.Fatalf("%s never reached epoch %d", n.name, epoch)
}

// decision is one line of `puente search -json`.
type decision struct {
	Row   int    `json:"row"`
	Hit   bool   `json:"hit"`
	Error string `json:"error"`
}

// decisions parses the lines of `puente search -json`.
func decisions(t *testing.T, out string) []decision {
	t.Helper()
	var ds []decision
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var d decision
		if err := json.Unmarshal([]byte(l), &d); err != nil {
			t.Fatalf("search output %q: %v", l, err)
		}
		ds = append(ds, d)
	}
	return ds
}
