package protect

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error returned by this package wraps one of them
// (test with [errors.Is]) and carries the "protect: " prefix.
var (
	// ErrInput reports bad biometric input: a feature file or vector that is
	// malformed, has the wrong dimension, or holds NaN, Inf or a zero vector.
	// Errors wrapping it are usually an [*InputError] naming the place.
	ErrInput = errors.New("protect: bad input")

	// ErrParams reports transform parameters that fail [Params.Validate] or
	// an encoding of them that cannot be decoded.
	ErrParams = errors.New("protect: bad parameters")

	// ErrSeed reports key material, agreement ID or seed that cannot be used.
	ErrSeed = errors.New("protect: bad seed material")

	// ErrScores reports score sets a metric cannot be computed from (empty,
	// NaN, a target rate outside (0, 1)).
	ErrScores = errors.New("protect: bad scores")
)

// InputError says where in an input a problem was found. Fields that do
// not apply are empty (Source) or -1 (Row, Col). It never holds feature
// values: those are biometric data.
type InputError struct {
	Source string // file name or "vector"; empty when unknown
	Row    int    // 0-based row (record) index, or -1
	Col    int    // 0-based column (feature) index, or -1
	Field  string // header field or JSON key, when the problem is there
	Reason string // what is wrong, for a person to read
}

func (e *InputError) Error() string {
	msg := "protect: "
	if e.Source != "" {
		msg += e.Source + ": "
	}
	if e.Field != "" {
		msg += fmt.Sprintf("field %q: ", e.Field)
	}
	switch {
	case e.Row >= 0 && e.Col >= 0:
		msg += fmt.Sprintf("row %d, column %d: ", e.Row, e.Col)
	case e.Row >= 0:
		msg += fmt.Sprintf("row %d: ", e.Row)
	case e.Col >= 0:
		msg += fmt.Sprintf("column %d: ", e.Col)
	}
	return msg + e.Reason
}

// Unwrap makes errors.Is(err, ErrInput) true for every InputError.
func (e *InputError) Unwrap() error { return ErrInput }

func inputErr(source string, row, col int, format string, args ...any) error {
	return &InputError{Source: source, Row: row, Col: col, Reason: fmt.Sprintf(format, args...)}
}

func paramsErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrParams, fmt.Sprintf(format, args...))
}

func scoresErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrScores, fmt.Sprintf(format, args...))
}
