package evaluation

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/puente-id/puente/internal/lfw"
	"github.com/puente-id/puente/protect"
)

// docsFile is where `puente eval -o` writes the report, relative to the
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
// mean's overlap and the thresholds (everything that depends on accuracy
// alone, with the default configuration). The unlinkability, attack and
// sweep sections take minutes; `puente eval -check docs/evaluation.md`
// regenerates and compares the whole report.
func TestDocsCurrent(t *testing.T) {
	env := loadEnv(t)
	docs, err := os.ReadFile(filepath.Join(moduleRoot(t), docsFile))
	if err != nil {
		t.Fatalf("reading the generated report: %v", err)
	}
	dir, err := lfw.FindDataDir()
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{DataDir: dir, Sweep: true}
	cfg.defaults()
	var res []*SchemeResult
	for _, p := range Recommended(env.Mean) {
		tr, err := protect.New(p, EvalSeed(p.Scheme, 1))
		if err != nil {
			t.Fatal(err)
		}
		tm, err := protect.ApplyAll(tr, env.Set.Emb)
		if err != nil {
			t.Fatal(err)
		}
		r := &SchemeResult{Params: p}
		if r.Acc, err = MeasureAccuracy(tm, env.Proto); err != nil {
			t.Fatal(err)
		}
		res = append(res, r)
	}
	ov, err := MeasureOverlap(env, res)
	if err != nil {
		t.Fatal(err)
	}
	sections := sections(env, cfg, res, ov, &Sweep{})
	var toc bytes.Buffer
	for i, s := range sections {
		fmt.Fprintf(&toc, "%d. %s\n", i+1, s.Title())
	}
	if !bytes.Contains(docs, toc.Bytes()) {
		t.Errorf("%s: the table of contents is not\n%s", docsFile, toc.Bytes())
	}
	for i, s := range sections[:4] {
		var b bytes.Buffer
		fmt.Fprintf(&b, "\n## %d. %s\n\n", i+1, s.Title())
		if err := s.WriteMarkdown(&b); err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(docs, b.Bytes()) {
			t.Errorf("%s: section %d (%s) is not what the code writes; regenerate it with `puente eval -o %s`. The code writes:\n%s",
				docsFile, i+1, s.Title(), docsFile, b.Bytes())
		}
	}
}
