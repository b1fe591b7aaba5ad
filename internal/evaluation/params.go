package evaluation

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"

	"github.com/puente-id/puente/protect"
)

// PublicMeanFile is the public population the evaluation's normalisation
// mean comes from: 205 dlib descriptors of 10 LFW identities
// (lfw-dlib128-tiny, Apache-2.0), disjoint from how the evaluation set is
// scored, so the mean is a statistic both parties and an attacker could
// compute from public faces.
const PublicMeanFile = "lfw-dlib128-tiny/dlib.json"

// PublicMean reads the public population and returns the mean of its
// L2-normalised vectors.
func PublicMean(dataDir string) ([]float64, error) {
	path := filepath.Join(dataDir, PublicMeanFile)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("evaluation: %w", err)
	}
	defer f.Close()
	m, err := protect.ReadJSON(f, path, protect.DefaultLimits)
	if err != nil {
		return nil, fmt.Errorf("evaluation: %w", err)
	}
	return protect.MeanOf(m), nil
}

// EvalSeed derives the evaluation's seed for a scheme and epoch from fixed,
// public material: evaluation runs are reproducible, and these seeds must
// never key real templates.
func EvalSeed(s protect.Scheme, epoch uint64) protect.Seed {
	material := sha256.Sum256([]byte("puente evaluation key material (public, never for enrolment)"))
	seed, err := protect.DeriveSeed(material[:], "puente-evaluation", s, epoch)
	if err != nil {
		panic(err) // fixed, valid inputs
	}
	return seed
}
