package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/puente-id/puente/gallery"
	"github.com/puente-id/puente/protocol/wire"
)

// parseAdminRequest decodes and checks one request of operation op: a body that is one JSON
// object of adminRequest's fields, in valid UTF-8, and nothing else. It returns a request that
// has every field the operation needs, in range: a partner name (all but status, keys and
// audit-prune), as many subject references as feature vectors (enrol), references that pass
// gallery.CheckRef, non-empty vectors (protect: of finite numbers), a probe with exactly one of
// raw features and protected template (search, verify), a reference (verify), a key command
// (keys). A body that is not UTF-8 is refused rather than read with its bad bytes replaced by
// U+FFFD, which would make different references one. The error names what was wrong and never
// echoes a vector.
func parseAdminRequest(op string, raw []byte) (*adminRequest, error) {
	if adminMethod(op) == "" {
		return nil, fmt.Errorf("protocol: admin: unknown operation %.64q", op)
	}
	if !utf8.Valid(raw) {
		return nil, fmt.Errorf("protocol: admin: %s: the request is not valid UTF-8", op)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	req := new(adminRequest)
	if err := dec.Decode(req); err != nil {
		return nil, fmt.Errorf("protocol: admin: %s: request is not a JSON object of the admin protocol: %w", op, safeJSONError(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("protocol: admin: %s: data after the request object", op)
	}
	if err := req.check(op); err != nil {
		return nil, fmt.Errorf("protocol: admin: %s: %w", op, err)
	}
	return req, nil
}

// check checks that the request has what operation op needs.
func (r *adminRequest) check(op string) error {
	if r.TimeoutMS < 0 {
		return errors.New("negative timeout")
	}
	if op != "status" && op != "keys" && op != "audit-prune" && (r.Partner == "" || len(r.Partner) > wire.MaxNameLen) {
		return fmt.Errorf("partner name must be 1 to %d bytes", wire.MaxNameLen)
	}
	if len(r.Purpose) > wire.MaxPurposeLen || len(r.Reference) > wire.MaxNameLen {
		return errors.New("purpose or reference too long")
	}
	switch op {
	case "enrol":
		if len(r.Refs) != len(r.Raw32) {
			return fmt.Errorf("%d subject references for %d feature vectors", len(r.Refs), len(r.Raw32))
		}
		for i, v := range r.Raw32 {
			if len(v) == 0 {
				return fmt.Errorf("feature vector %d is empty", i)
			}
		}
		return checkRefs(r.Refs)
	case "references":
		return checkRefs(r.Refs)
	case "protect":
		for i, v := range r.Raw {
			if err := checkVector(v); err != nil {
				return fmt.Errorf("feature vector %d: %w", i, err)
			}
		}
	case "search", "verify":
		if r.Probe == nil || (r.Probe.Raw == nil) == (r.Probe.Protected == nil) {
			return errors.New("the probe must have either raw features or a protected template")
		}
		if err := checkVector(r.Probe.Raw); r.Probe.Raw != nil && err != nil {
			return fmt.Errorf("probe: %w", err)
		}
		if err := checkVector(r.Probe.Protected); r.Probe.Protected != nil && err != nil {
			return fmt.Errorf("probe: %w", err)
		}
		if op == "verify" && r.Reference == "" {
			return errors.New("no reference")
		}
	case "keys":
		if r.Key == nil || !contains(KeyActions, r.Key.Action) {
			return fmt.Errorf("a key command needs one of the actions %v", KeyActions)
		}
	}
	return nil
}

// checkRefs checks subject references (gallery.CheckRef).
func checkRefs(refs []string) error {
	for i, ref := range refs {
		if err := gallery.CheckRef(ref); err != nil {
			return fmt.Errorf("subject reference %d: %w", i, err)
		}
	}
	return nil
}

// checkVector checks a vector of the request: non-empty, every value finite.
func checkVector(v []float64) error {
	if len(v) == 0 {
		return errors.New("empty vector")
	}
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("value %d is not finite", i)
		}
	}
	return nil
}

// safeJSONError describes a JSON decoding error without the value that caused it (json's own
// message for a number of the wrong type or out of range quotes the number, which may be a
// feature value).
func safeJSONError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("field %q at byte %d: a JSON %s where %v is wanted, or out of its range", te.Field, te.Offset, jsonKind(te.Value), te.Type)
	}
	return err
}

// jsonKind is the kind of JSON value an UnmarshalTypeError's Value describes ("number 1e39" is
// a number).
func jsonKind(v string) string {
	kind, _, _ := strings.Cut(v, " ")
	return kind
}
