package evaluation

import (
	"crypto/sha256"
	"fmt"
	"io"

	"github.com/puente-id/puente/protect"
)

// PublicMeanFile is the public population the evaluation's normalisation
// mean comes from: 205 dlib descriptors of 10 LFW identities
// (lfw-dlib128-tiny, Apache-2.0), a statistic both parties and an attacker
// could compute from public faces. It is not disjoint from the evaluation
// set: most of its vectors are rows of lfw-dlib128 and all its identities
// are in it. The report states the overlap and measures its effect by
// repeating the accuracy measurement without those identities
// ([MeasureOverlap]).
const PublicMeanFile = "lfw-dlib128-tiny/dlib.json"

// readPublic reads a public population in the LFW layout's JSON form,
// every row labelled by identity.
func readPublic(r io.Reader, path string) (*protect.Matrix, error) {
	m, err := protect.ReadJSON(r, path, protect.DefaultLimits)
	if err != nil {
		return nil, fmt.Errorf("evaluation: %w", err)
	}
	if len(m.Labels) != m.Rows {
		return nil, fmt.Errorf("evaluation: %s: vectors without identity names", path)
	}
	return m, nil
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
