package protect

import (
	"math"
)

// Matrix is a set of feature vectors, one per row, in row-major order.
// Labels, when not nil, holds one label (e.g. an identity) per row.
type Matrix struct {
	Rows, Cols int
	Data       []float64
	Labels     []string
}

// Row returns row r as a slice of Data (not a copy). It panics if r is out
// of range (a programmer error).
func (m *Matrix) Row(r int) []float64 { return m.Data[r*m.Cols : (r+1)*m.Cols] }

// Validate checks that every value is finite and no row is a zero vector,
// and that the shape is consistent. The error is an [*InputError] naming
// source and the first bad row (and column).
func (m *Matrix) Validate(source string) error {
	if m.Rows <= 0 || m.Cols <= 0 {
		return inputErr(source, -1, -1, "empty: %d rows of %d values", m.Rows, m.Cols)
	}
	if len(m.Data) != m.Rows*m.Cols || (m.Labels != nil && len(m.Labels) != m.Rows) {
		return inputErr(source, -1, -1, "inconsistent shape: %d values and %d labels for %d x %d", len(m.Data), len(m.Labels), m.Rows, m.Cols)
	}
	for r := 0; r < m.Rows; r++ {
		var ss float64
		for c, v := range m.Row(r) {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return inputErr(source, r, c, "value is not finite")
			}
			ss += v * v
		}
		if ss == 0 {
			return inputErr(source, r, -1, "zero vector")
		}
	}
	return nil
}

// Limits bound what a reader accepts, so a hostile or corrupt file cannot
// make it allocate without bound. Readers allocate as data arrives, never
// from a size a header claims.
type Limits struct {
	MaxRows  int   // most vectors
	MaxCols  int   // largest dimension
	MaxBytes int64 // largest input, in bytes
}

// DefaultLimits suits face embeddings: up to a million vectors of up to 4096
// values, 256 MiB of input.
var DefaultLimits = Limits{MaxRows: 1 << 20, MaxCols: MaxInputDim, MaxBytes: 256 << 20}

func (l Limits) orDefault() Limits {
	if l.MaxRows <= 0 {
		l.MaxRows = DefaultLimits.MaxRows
	}
	if l.MaxCols <= 0 {
		l.MaxCols = DefaultLimits.MaxCols
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultLimits.MaxBytes
	}
	return l
}

// checkShape checks a shape against the limits.
func (l Limits) checkShape(source string, rows, cols int) error {
	if rows < 1 || cols < 1 {
		return inputErr(source, -1, -1, "empty: %d rows of %d values", rows, cols)
	}
	if rows > l.MaxRows {
		return inputErr(source, -1, -1, "%d rows exceed the limit of %d", rows, l.MaxRows)
	}
	if cols > l.MaxCols {
		return inputErr(source, -1, -1, "dimension %d exceeds the limit of %d", cols, l.MaxCols)
	}
	return nil
}
