package he

import (
	"errors"
	"fmt"
)

// Errors returned by this package. Callers test for them with [errors.Is];
// every error that comes from bad input also carries a [*FieldError] naming
// the object and the field that was wrong.
var (
	// ErrMalformed reports bytes that do not decode as the object they
	// claim to be: wrong magic, length, level, residue out of range, ...
	ErrMalformed = errors.New("he: malformed input")

	// ErrMismatch reports a well-formed object made for something else:
	// another parameter set, key set, role, query or gallery geometry.
	ErrMismatch = errors.New("he: object does not match")

	// ErrState reports a ceremony step taken out of order, twice, or after
	// the ceremony failed. A failed ceremony cannot be resumed; start a new
	// one (fresh shares, fresh randomness).
	ErrState = errors.New("he: ceremony out of order")

	// ErrThresholdRange reports a threshold below the lowest one a
	// parameter set serves (ParamSet.MinTau).
	ErrThresholdRange = errors.New("he: threshold outside the parameter set's range")

	// ErrUnknownParamSet reports a parameter-set ID this build does not know.
	ErrUnknownParamSet = errors.New("he: unknown parameter set")

	// ErrInsecureParams reports an INSECURE test parameter set in a build
	// made without -tags puente_testparams, which cannot use one.
	ErrInsecureParams = errors.New("he: INSECURE test parameter sets are not in this build")

	// ErrBadTemplate reports a gallery template or probe that is not a
	// finite vector of the expected dimension with norm at most 1.
	ErrBadTemplate = errors.New("he: bad template")

	// ErrResult reports a decrypted response that is not a well-formed
	// decision: a slot that should be zero is not, or the count is not a
	// small non-negative integer. The response must not be used.
	ErrResult = errors.New("he: ill-formed result")
)

// FieldError names the object and the field that failed validation. It
// wraps [ErrMalformed], [ErrMismatch] or [ErrBadTemplate]. Its message
// never contains key material, template values or scores.
type FieldError struct {
	Object string // e.g. "query", "response", "ceremony message", "secret share"
	Field  string // e.g. "parameter set", "level", "c0 residue"
	Reason string // what was wrong, with expected and received sizes
	Kind   error  // the sentinel it wraps
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("he: %s: %s: %s", e.Object, e.Field, e.Reason)
}

func (e *FieldError) Unwrap() error { return e.Kind }

func malformed(object, field, format string, args ...any) error {
	return &FieldError{Object: object, Field: field, Reason: fmt.Sprintf(format, args...), Kind: ErrMalformed}
}

func mismatch(object, field, format string, args ...any) error {
	return &FieldError{Object: object, Field: field, Reason: fmt.Sprintf(format, args...), Kind: ErrMismatch}
}
