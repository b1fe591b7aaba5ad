// Package tests holds Puente's end-to-end tests: nodes run as separate `puente` processes on
// loopback, with their own keys, certificates and files, and talk only over gRPC with mutual
// TLS, as two agencies' nodes do.
package tests

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
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

// puente is the binary built once by TestMain.
var puente string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "puente-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	puente = filepath.Join(dir, "puente")
	build := exec.Command("go", append(append([]string{"build"}, buildFlags...), "-o", puente, "../cmd/puente")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building puente:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// node is one node's home and, while it serves, its process.
type node struct {
	name    string
	home    string
	addr    string
	metrics string
	serve   *exec.Cmd
	log     *servetest.Log
	env     []string // extra environment of the serve process
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

// newNode runs `puente init` for a test node.
func newNode(t *testing.T, dir, name string) *node {
	t.Helper()
	n := &node{name: name, home: filepath.Join(dir, name), addr: freeAddr(t), metrics: freeAddr(t)}
	must(t, "init", "-home", n.home, "-test-node", "-listen", n.addr, "-metrics", n.metrics, name)
	return n
}

// agreement describes a partnership for link.
type agreement struct {
	id, params, quota string
	tau               float64
}

// link adds b as a partner of a, as an operator would: `puente partner add` with b's card, then
// the printed block appended to a's key policy.
func link(t *testing.T, a, b *node, ag agreement) {
	t.Helper()
	out := must(t, "partner", "add", "-home", a.home, "-card", filepath.Join(b.home, "card.json"), "-agreement", ag.id,
		"-address", b.addr, "-he-params", ag.params, "-threshold", strconv.FormatFloat(ag.tau, 'g', -1, 64), "-quota", ag.quota)
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

// start runs `puente serve` for the node and returns once it serves (servetest.Start: its
// serving line, then its operator socket answers).
func (n *node) start(t *testing.T) {
	t.Helper()
	n.serve = exec.Command(puente, "serve", "-home", n.home)
	if len(n.env) > 0 {
		n.serve.Env = append(os.Environ(), n.env...)
	}
	n.log = servetest.Start(t, n.name, n.serve, filepath.Join(n.home, "run", "admin.sock"))
	t.Cleanup(func() { n.stop(t) })
}

// stop sends SIGTERM to the node's serve process and waits for it to exit cleanly.
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
	case <-time.After(90 * time.Second):
		n.serve.Process.Kill()
		<-done
		t.Errorf("%s serve did not stop within 90s after SIGTERM", n.name)
	}
	n.serve = nil
}

// rss returns the serve process's resident set size in bytes (Linux /proc).
func (n *node) rss() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", n.serve.Process.Pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc status")
}

// metric reads one metric from the node's Prometheus endpoint: the sum of the series whose name
// and labels start with name (all series of a labelled metric, or one unlabelled one).
func (n *node) metric(name string) (float64, error) {
	resp, err := http.Get("http://" + n.metrics + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	sum, found := 0.0, false
	for _, line := range strings.Split(string(body), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		labelled := strings.Contains(name, "{") && strings.HasPrefix(f[0], name)
		if f[0] != name && !strings.HasPrefix(f[0], name+"{") && !labelled {
			continue
		}
		v, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			return 0, err
		}
		sum, found = sum+v, true
	}
	if !found {
		return 0, fmt.Errorf("metric %s not found", name)
	}
	return sum, nil
}

// matchLine is one line of `puente search -json`.
type matchLine struct {
	Row       int    `json:"row"`
	Hit       bool   `json:"hit"`
	Request   string `json:"request"`
	Epoch     uint64 `json:"epoch"`
	ElapsedMS int64  `json:"elapsed_ms"`
	Sent      int64  `json:"sent_bytes"`
	Received  int64  `json:"received_bytes"`
	Error     string `json:"error"`
}

func parseLines(t *testing.T, out string) []matchLine {
	t.Helper()
	var ls []matchLine
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var l matchLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("search output %q: %v", sc.Text(), err)
		}
		ls = append(ls, l)
	}
	return ls
}

// writeNPY writes rows as a NumPy v1.0 .npy file of little-endian float32.
func writeNPY(t *testing.T, path string, rows [][]float64) {
	t.Helper()
	cols := len(rows[0])
	hdr := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", len(rows), cols)
	pad := 64 - (10+len(hdr)+1)%64
	hdr += strings.Repeat(" ", pad) + "\n"
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
}

// readProtected reads the templates of the file `puente protect` writes (which also names the
// agreement and epoch they were protected under).
func readProtected(t *testing.T, path string) [][]float64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Templates [][]float64 `json:"templates"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f.Templates
}
