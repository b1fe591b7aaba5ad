package evaluation

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/puente-id/puente/internal/dataset"
	"github.com/puente-id/puente/internal/lfw"
	"github.com/puente-id/puente/protect"
)

// The dimensions an evaluation accepts. Above MaxDim the recommended
// PolyProtect templates (m = d - 4) would exceed the 512 dimensions the
// encrypted searches are run at.
const (
	MinDim = 8
	MaxDim = 512
)

// Population is a public population of embeddings, the source of the
// normalisation mean: a statistic both parties and an attacker could
// compute from public faces of the same embedding model.
type Population struct {
	Name  string          // as the report names it (a file name)
	Emb   *protect.Matrix // Labels, when not nil, name each row's identity
	Files []dataset.File  // the files read, for the report's provenance
}

// Anchors are the plaintext figures the accuracy targets are set from: the
// data README's for LFW ([LFWAnchors]), raw cosine measured on the set
// otherwise.
type Anchors struct {
	EER, FNMR3, FNIR float64
}

// LFWAnchors are the plaintext anchors of the LFW data README (its own
// threshold convention and sample).
var LFWAnchors = Anchors{EER: 0.0193, FNMR3: 0.038, FNIR: 0.166}

// Targets are the figures a recommended parameter set must reach.
type Targets struct {
	EER, FNMR3, FNIR, Dsys, Attack float64
}

// Targets returns the targets of anchors a: EER within 0.5 percentage
// points of the anchor, FNMR @ FMR 1e-3 within 1.5, FNIR @ FPIR 1% within
// 2; D<->sys at most 0.10 and stolen-key attack success at most 5%.
func (a Anchors) Targets() Targets {
	return Targets{EER: a.EER + 0.005, FNMR3: a.FNMR3 + 0.015, FNIR: a.FNIR + 0.02, Dsys: 0.10, Attack: 0.05}
}

// MeetsAccuracy reports whether a meets the EER, FNMR and FNIR targets.
func (t Targets) MeetsAccuracy(a *Accuracy) bool {
	return a.EER <= t.EER && a.FNMR3 <= t.FNMR3 && a.FNIR <= t.FNIR
}

// loadInput returns the environment's set and public population: the LFW
// layout of c.DataDir, or c.Set with c.Public (or its own vectors).
func loadInput(c Config) (*Env, error) {
	if c.Set == nil {
		s, err := lfw.Load(c.DataDir)
		if err != nil {
			return nil, err
		}
		pub, err := loadPublicFile(c.DataDir)
		if err != nil {
			return nil, err
		}
		s.Provenance.Files = append(s.Provenance.Files, pub.Files...)
		return &Env{Set: s, Public: pub.Emb, PublicName: pub.Name, lfw: true}, nil
	}
	if c.Public == nil {
		return &Env{Set: c.Set, Public: c.Set.Emb}, nil
	}
	for _, f := range c.Public.Files {
		f.Role = "public population " + f.Role
		c.Set.Provenance.Files = append(c.Set.Provenance.Files, f)
	}
	return &Env{Set: c.Set, Public: c.Public.Emb, PublicName: c.Public.Name}, nil
}

// loadPublicFile reads PublicMeanFile of the LFW layout, with its
// provenance.
func loadPublicFile(dataDir string) (*Population, error) {
	var m *protect.Matrix
	f, err := dataset.ReadFile(filepath.Join(dataDir, PublicMeanFile), "public population", func(r io.Reader) error {
		var err error
		m, err = readPublic(r, filepath.Join(dataDir, PublicMeanFile))
		return err
	})
	if err != nil {
		return nil, err
	}
	f.Name = PublicMeanFile
	return &Population{Name: PublicMeanFile, Emb: m, Files: []dataset.File{f}}, nil
}

// ownMean reports whether the public mean is the set's own.
func (e *Env) ownMean() bool { return e.PublicName == "" }

// vectors names the set's vectors in the report's prose: "dlib vectors",
// or "the set's vectors" when the model is not named.
func (e *Env) vectors() string {
	if e.Set.Model != "" {
		return e.Set.Model + " vectors"
	}
	return "the set's vectors"
}

// commonComponent reports whether the set's vectors share a strong common
// component: guessing the public mean is accepted for more of the rows
// than the attack target allows.
func (e *Env) commonComponent() bool { return e.MeanGuess > e.Targets.Attack }

// embeddingsFile is the base name of the file the embeddings were read
// from, for the report's prose.
func (e *Env) embeddingsFile() string {
	for _, f := range e.Set.Provenance.Files {
		if f.Role == "embeddings" {
			return filepath.Base(f.Name)
		}
	}
	return e.Set.Name
}

// describe says what the set is, in one parenthesis's worth of words.
func (e *Env) describe() string {
	s := e.Set
	d := s.Description
	if d == "" {
		d = fmt.Sprintf("%d-d embeddings of %d images", s.Dim(), s.Emb.Rows)
		if s.Model != "" {
			d = fmt.Sprintf("%d-d %s embeddings of %d images", s.Dim(), s.Model, s.Emb.Rows)
		}
	}
	return fmt.Sprintf("%s, %d identities, %d with two or more images", d, len(s.Names), s.MultiImage())
}
