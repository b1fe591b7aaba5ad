package protect

import (
	"fmt"
)

// Transform is a keyed cancellable transform: it maps a raw feature vector
// to a protected unit vector. The inner product ([Dot]) of two protected
// vectors made with the same parameters and seed is their match score
// (higher is more similar, at most 1).
//
// A Transform is immutable once built and safe for concurrent use.
type Transform interface {
	// InputDim is the dimension of the raw feature vectors Apply accepts.
	InputDim() int
	// OutputDim is the dimension m of the protected vectors.
	OutputDim() int
	// Apply normalises x as the parameters say and writes its protected
	// form, a unit vector, to dst. It returns an error wrapping [ErrInput]
	// if len(x) != InputDim(), len(dst) != OutputDim(), or x holds NaN,
	// Inf or is a zero vector; dst is then left in an unspecified state.
	Apply(dst, x []float64) error
}

// New builds the transform of parameter set p keyed by seed. The seed is
// expanded with HKDF-SHA256 and AES-256-CTR; the transform holds only the
// expanded material, not the seed, so the caller may zero the seed after
// New returns. The same (p, seed) gives the same transform: PolyProtect's
// integer material is identical everywhere, and the Gaussian material of
// BioHashing and Index-of-Max agrees across architectures to within
// floating-point rounding (Go may fuse multiply-adds on some), which can
// change a bit or an index only for an input on a decision boundary
// (testdata/transform_kat.json pins it).
func New(p Params, seed Seed) (Transform, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	defer seed.Zero() // this copy; the caller's is the caller's to zero
	if seed.IsZero() {
		return nil, fmt.Errorf("%w: zero seed (never derived, or zeroed)", ErrSeed)
	}
	p.Norm.Mean = append([]float64(nil), p.Norm.Mean...)
	switch p.Scheme {
	case BioHash:
		return newBioHash(p, &seed), nil
	case IndexOfMax:
		return newIndexOfMax(p, &seed), nil
	default:
		return newPolyProtect(p, &seed), nil
	}
}

// base holds what every transform shares: its parameters and the
// normalisation step.
type base struct {
	p Params
}

func (b *base) InputDim() int  { return b.p.InputDim }
func (b *base) OutputDim() int { return b.p.outputDim() }

// normalise checks the dimensions and returns the normalised input.
func (b *base) normalise(dst, x []float64) ([]float64, error) {
	if len(x) != b.p.InputDim {
		return nil, inputErr("vector", -1, -1, "dimension %d, want %d", len(x), b.p.InputDim)
	}
	if len(dst) != b.OutputDim() {
		return nil, inputErr("vector", -1, -1, "output buffer has dimension %d, want %d", len(dst), b.OutputDim())
	}
	v := make([]float64, len(x))
	if err := b.p.Norm.Apply(v, x); err != nil {
		return nil, err
	}
	return v, nil
}

// ApplyAll protects every row of m with t and returns the protected rows as
// a new matrix. The error names the first row that failed.
func ApplyAll(t Transform, m *Matrix) (*Matrix, error) {
	out := &Matrix{Rows: m.Rows, Cols: t.OutputDim(), Data: make([]float64, m.Rows*t.OutputDim())}
	for r := 0; r < m.Rows; r++ {
		if err := t.Apply(out.Row(r), m.Row(r)); err != nil {
			if ie, ok := err.(*InputError); ok {
				e := *ie
				e.Row = r
				return nil, &e
			}
			return nil, fmt.Errorf("protect: row %d: %w", r, err)
		}
	}
	return out, nil
}
