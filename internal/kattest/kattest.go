// Package kattest checks values against known answers recorded in a package's testdata: a file
// of "name hex" lines, '#' comments. A test compares what this build computes with the recorded
// value and fails when it changed; `go test -update-kat` records this build's values instead, for
// a deliberate change only (say so in the commit). Only tests import it.
package kattest

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
)

// update is the -update-kat flag of every test binary that imports this package.
var update = flag.Bool("update-kat", false, "rewrite the package's known answers (testdata) with this build's values")

// File is one file of known answers.
type File struct {
	Path   string // e.g. "testdata/kat.txt", relative to the package's directory
	Header string // the comment lines written at the top by -update-kat, without '#'

	mu sync.Mutex // serialises a package's parallel tests' reads and writes of the file
}

// Check compares got with the known answer named name; with -update-kat it records got instead.
func (f *File) Check(t testing.TB, name string, got []byte) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	vectors := f.read(t)
	if *update {
		vectors[name] = hex.EncodeToString(got)
		f.write(t, vectors)
		return
	}
	want, ok := vectors[name]
	if !ok {
		t.Fatalf("%s: no known answer in %s (run go test -update-kat once, deliberately)", name, f.Path)
	}
	if g := hex.EncodeToString(got); g != want {
		t.Errorf("%s changed:\n got %s\nwant %s\n(a change of the wire format: both nodes must agree on it)", name, g, want)
	}
}

func (f *File) read(t testing.TB) map[string]string {
	t.Helper()
	out := map[string]string{}
	file, err := os.Open(f.Path)
	if os.IsNotExist(err) && *update {
		return out
	}
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, val, ok := strings.Cut(line, " ")
		if !ok {
			t.Fatalf("%s: bad line %q", f.Path, line)
		}
		out[name] = val
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func (f *File) write(t testing.TB, v map[string]string) {
	t.Helper()
	names := make([]string, 0, len(v))
	for n := range v {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, l := range strings.Split(f.Header, "\n") {
		fmt.Fprintf(&b, "# %s\n", l)
	}
	for _, n := range names {
		fmt.Fprintf(&b, "%s %s\n", n, v[n])
	}
	if err := os.MkdirAll(filepath.Dir(f.Path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.Path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}
