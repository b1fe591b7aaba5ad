package he_test

import (
	"bufio"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/puente-id/puente/he"
)

// updateKAT rewrites testdata/kat.txt with the values this build computes: run it only for a
// deliberate change of the wire format or of a parameter set, and say so in the commit.
var updateKAT = flag.Bool("update-kat", false, "rewrite he/testdata/kat.txt with this build's values")

const katFile = "testdata/kat.txt"

var katMu sync.Mutex

// checkKAT compares got with the known answer named name in testdata/kat.txt ("name hex" lines);
// with -update-kat it records got instead.
func checkKAT(t *testing.T, name string, got []byte) {
	t.Helper()
	katMu.Lock()
	defer katMu.Unlock()
	vectors := readKAT(t)
	if *updateKAT {
		vectors[name] = hex.EncodeToString(got)
		writeKAT(t, vectors)
		return
	}
	want, ok := vectors[name]
	if !ok {
		t.Fatalf("%s: no known answer in %s (run go test -update-kat once, deliberately)", name, katFile)
	}
	if g := hex.EncodeToString(got); g != want {
		t.Errorf("%s changed:\n got %s\nwant %s\n(a change of the wire format or of the parameter set: both nodes must agree on it)", name, g, want)
	}
}

func readKAT(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	f, err := os.Open(katFile)
	if os.IsNotExist(err) && *updateKAT {
		return out
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, val, ok := strings.Cut(line, " ")
		if !ok {
			t.Fatalf("%s: bad line %q", katFile, line)
		}
		out[name] = val
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func writeKAT(t *testing.T, v map[string]string) {
	t.Helper()
	names := make([]string, 0, len(v))
	for n := range v {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("# Known answers of package he: parameter-set digests and the SHA-512 of HE wire objects made\n")
	b.WriteString("# from fixed randomness (he/kat_test.go). A change here is a change of the wire format.\n")
	for _, n := range names {
		fmt.Fprintf(&b, "%s %s\n", n, v[n])
	}
	if err := os.MkdirAll(filepath.Dir(katFile), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(katFile, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestParamSetDigestKnownAnswer: the digest the key ceremony compares is the recorded one for
// every built-in parameter set, so a change of its numbers cannot go unnoticed.
func TestParamSetDigestKnownAnswer(t *testing.T) {
	ps, err := he.Lookup(he.N15V2)
	if err != nil {
		t.Fatal(err)
	}
	d := ps.Digest()
	checkKAT(t, "param-set-digest/"+ps.Name(), d[:])
}
