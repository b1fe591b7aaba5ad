//go:build puente_testparams

package evaluation

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/puente-id/puente/internal/lfw/lfwtest"
)

// docsFile is where `puente-lab eval -o` writes the report, relative to the
// module root.
const docsFile = "docs/evaluation.md"

// moduleRoot walks up from the working directory to the directory holding
// go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		if filepath.Dir(dir) == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = filepath.Dir(dir)
	}
}

// TestDocsCurrent checks that docs/evaluation.md is what the code writes,
// for every part cheap enough to recompute in a test: the table of
// contents, the data and conventions, the accuracy tables, the public
// mean's overlap, the thresholds and the emulated encrypted accuracy
// (everything that depends on accuracy alone, with the default
// configuration). The real encrypted searches, unlinkability, attack and
// sweep sections take minutes; `puente-lab eval -check docs/evaluation.md`
// regenerates and compares the whole report.
func TestDocsCurrent(t *testing.T) {
	env, res, enc := encryptedFixture(t)
	docs, err := os.ReadFile(filepath.Join(moduleRoot(t), docsFile))
	if err != nil {
		t.Fatalf("reading the generated report: %v", err)
	}
	cfg := Config{DataDir: lfwtest.Dir(t), Sweep: true}
	cfg.defaults()
	ov, err := MeasureOverlap(env, res)
	if err != nil {
		t.Fatal(err)
	}
	sections := sections(env, cfg, res, ov, enc, &Sweep{})
	var toc bytes.Buffer
	for i, s := range sections {
		fmt.Fprintf(&toc, "%d. %s\n", i+1, s.Title())
	}
	if !bytes.Contains(docs, toc.Bytes()) {
		t.Errorf("%s: the table of contents is not\n%s", docsFile, toc.Bytes())
	}
	for i, s := range sections[:secEncrypted] {
		var b bytes.Buffer
		fmt.Fprintf(&b, "\n## %d. %s\n\n", i+1, s.Title())
		if err := s.WriteMarkdown(&b); err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(docs, b.Bytes()) {
			t.Errorf("%s: section %d (%s) is not what the code writes; regenerate it with `puente-lab eval -o %s`. The code writes:\n%s",
				docsFile, i+1, s.Title(), docsFile, b.Bytes())
		}
	}
	for _, f := range []string{figDET, figScores, figUnlinkability} {
		if !bytes.Contains(docs, []byte("](img/"+f+")")) {
			t.Errorf("%s does not link to img/%s", docsFile, f)
		}
		if st, err := os.Stat(filepath.Join(moduleRoot(t), "docs", "img", f)); err != nil || st.Size() == 0 {
			t.Errorf("docs/img/%s: %v", f, err)
		}
	}
}
