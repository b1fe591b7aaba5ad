package he

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// TestNoDivisionOnAnswerSecrets disassembles this test binary and requires
// that the functions that draw, combine and reduce the answer's secrets
// (masks, MAC keys, K3', decryption shares) contain no hardware division,
// whose latency depends on its operands on many processors (modarith.go).
// uniformMod drew the masks and keys with v % q, a division of the secret
// value itself, until the test found it.
func TestNoDivisionOnAnswerSecrets(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and disassembles the test binary (about half a minute)")
	}
	if runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" {
		t.Skipf("disassembly check written for amd64 and arm64, not %s", runtime.GOARCH)
	}
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		if gobin, err = exec.LookPath("go"); err != nil {
			t.Skip("no go tool to disassemble with")
		}
	}
	// go test links its binary without a symbol table: build the
	// package's own test binary again, with one.
	exe := filepath.Join(t.TempDir(), "he.test")
	if out, err := exec.Command(gobin, "test", "-c", "-o", exe, ".").CombinedOutput(); err != nil {
		t.Fatalf("go test -c: %v\n%s", err, out)
	}
	// Every function that handles the secrets, whether or not the others
	// inline into it.
	syms := `^github\.com/puente-id/puente/he\.(condSub|addMod|mulMod|reduce|uniformMod|\(\*ParamSet\)\.secrets|\(\*Querier\)\.Shares|\(\*Responder\)\.answer)$`
	out, err := exec.Command(gobin, "tool", "objdump", "-s", syms, exe).CombinedOutput()
	if err != nil {
		t.Fatalf("go tool objdump: %v\n%s", err, out)
	}
	text := string(out)
	for _, must := range []string{"he.(*ParamSet).secrets", "he.(*Responder).answer", "he.(*Querier).Shares"} {
		if !strings.Contains(text, "TEXT github.com/puente-id/puente/"+must) {
			t.Fatalf("%s not found in the disassembly", must)
		}
	}
	div := regexp.MustCompile(`\s(DIVQ|IDIVQ|DIVL|IDIVL|UDIV|SDIV)\b`)
	fn := ""
	var found []string
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "TEXT ") {
			fn = strings.Fields(line)[1]
			continue
		}
		if div.MatchString(line) {
			f := strings.Fields(line)
			found = append(found, fn+" at "+f[0])
		}
	}
	if len(found) > 0 {
		t.Errorf("hardware division in the answer's secret arithmetic:\n  %s", strings.Join(found, "\n  "))
	}
}
