package tests

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDemoNewUser runs `puente demo` as a new user does after installing Go: a fresh HOME and
// temporary directory, nothing generated beforehand, the production parameter set, the text
// output. It checks the decisions the demo prints against what the synthetic data makes true
// (the enrolled subject's new capture hits, someone never enrolled does not, the verification of
// an enrolled subject hits), that it reports what crossed the wire, that both nodes stopped and
// that nothing is left behind.
func TestDemoNewUser(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the demo runs two nodes on the production parameter set")
	}
	home, tmp := t.TempDir(), t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, puente, "demo")
	cmd.Dir = home
	cmd.Env = []string{"HOME=" + home, "TMPDIR=" + tmp, "PATH=" + os.Getenv("PATH")}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("puente demo: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	out := stdout.String()
	if stderr.Len() > 0 {
		t.Errorf("puente demo wrote to stderr:\n%s", stderr.String())
	}

	decisions := []struct {
		what, pattern string
	}{
		{"mated search", `new capture of enrolled case-\d{4}: +(HIT|no hit) `},
		{"non-mated search", `someone never enrolled: +(HIT|no hit) `},
		{"verification", `new capture of case-\d{4}: +(HIT|no hit) `},
	}
	want := []string{"HIT", "no hit", "HIT"}
	for i, d := range decisions {
		m := regexp.MustCompile(d.pattern).FindStringSubmatch(out)
		if m == nil {
			t.Errorf("the demo printed no %s decision:\n%s", d.what, out)
			continue
		}
		if m[1] != want[i] {
			t.Errorf("%s: the demo decided %q, want %q", d.what, m[1], want[i])
		}
	}
	for _, line := range []string{
		"Every decision equals the plaintext answer",
		"HE parameters puente-ckks-n15-v2",
		"us-cbp        stopped cleanly; its audit log verifies",
		"co-migracion  stopped cleanly; its audit log verifies",
		"The working directory was removed",
	} {
		if !strings.Contains(out, line) {
			t.Errorf("the demo's output lacks %q:\n%s", line, out)
		}
	}
	// Every query reports the bytes it sent and received on the wire: a query of a few MB, a
	// reply of at most 1.06 MB: the answer, the garbled circuit that opens it with the base
	// transfers' request, and the transfer answer are 1,031,256 bytes on puente-ckks-n15-v2
	// (docs/he-parameters.md), within docs/performance.md's 1 MiB (1.049 MB), and the relay also
	// counts TLS records, gRPC frames, the envelopes and their ML-DSA signatures (about 14 KB).
	traffic := regexp.MustCompile(`([\d.]+) MB sent, ([\d.]+) MB back`).FindAllStringSubmatch(out, -1)
	if len(traffic) != 3 {
		t.Errorf("the demo reported the traffic of %d queries, want 3:\n%s", len(traffic), out)
	}
	for _, m := range traffic {
		sent, _ := strconv.ParseFloat(m[1], 64)
		back, _ := strconv.ParseFloat(m[2], 64)
		if !(sent > 0 && sent <= 8 && back > 0 && back <= 1.06) {
			t.Errorf("query traffic %s MB sent, %s MB back: want (0, 8] and (0, 1.06]", m[1], m[2])
		}
	}

	// Both serve processes are gone.
	pids := regexp.MustCompile(`pid (\d+), listening`).FindAllStringSubmatch(out, -1)
	if len(pids) != 2 {
		t.Errorf("the demo named %d node processes, want 2:\n%s", len(pids), out)
	}
	for _, m := range pids {
		pid, _ := strconv.Atoi(m[1])
		if err := syscall.Kill(pid, 0); err == nil {
			t.Errorf("the demo's node process %d is still running", pid)
		}
	}
	// The temporary working directory was removed and the user's HOME holds nothing new.
	if ents, _ := os.ReadDir(tmp); len(ents) > 0 {
		t.Errorf("the demo left %s in the temporary directory", filepath.Join(tmp, ents[0].Name()))
	}
	if ents, _ := os.ReadDir(home); len(ents) > 0 {
		t.Errorf("the demo wrote %s into HOME", filepath.Join(home, ents[0].Name()))
	}
}
