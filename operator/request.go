package operator

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/puente-id/puente/gallery"
	pb "github.com/puente-id/puente/proto/puente/operator/v1"
	"github.com/puente-id/puente/protocol"
	"github.com/puente-id/puente/protocol/wire"
)

// The checks of the operator API's requests: a request reaches its operation only with every
// field the operation needs, in range — a partner name (all but Status, Keys and PruneAudit), as
// many subject references as feature vectors (Enrol), references that pass gallery.CheckRef,
// non-empty vectors of finite numbers, a probe with exactly one of raw features and protected
// template (Search, Verify), a reference (Verify), a key command's action (Keys). Strings are
// valid UTF-8 (protobuf refuses others when it decodes), so different references never become
// one. An error names what was wrong and never echoes a vector.

func checkPartner(p string) error {
	if p == "" || len(p) > wire.MaxNameLen {
		return fmt.Errorf("partner name must be 1 to %d bytes", wire.MaxNameLen)
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
func checkVector[F float32 | float64](v []F) error {
	if len(v) == 0 {
		return errors.New("empty vector")
	}
	for i, x := range v {
		if f := float64(x); math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("value %d is not finite", i)
		}
	}
	return nil
}

func checkEnrol(r *pb.EnrolRequest) error {
	if err := checkPartner(r.Partner); err != nil {
		return err
	}
	if len(r.Refs) != len(r.Raw) {
		return fmt.Errorf("%d subject references for %d feature vectors", len(r.Refs), len(r.Raw))
	}
	for i, v := range r.Raw {
		if err := checkVector(v.GetValues()); err != nil {
			return fmt.Errorf("feature vector %d: %w", i, err)
		}
	}
	return checkRefs(r.Refs)
}

func checkReferences(r *pb.ReferencesRequest) error {
	if err := checkPartner(r.Partner); err != nil {
		return err
	}
	return checkRefs(r.Refs)
}

func checkProtect(r *pb.ProtectRequest) error {
	if err := checkPartner(r.Partner); err != nil {
		return err
	}
	for i, v := range r.Raw {
		if err := checkVector(v.GetValues()); err != nil {
			return fmt.Errorf("feature vector %d: %w", i, err)
		}
	}
	return nil
}

// checkQuery checks what Search and Verify have in common.
func checkQuery(partner, purpose string, p *pb.Probe) error {
	if err := checkPartner(partner); err != nil {
		return err
	}
	if len(purpose) > wire.MaxPurposeLen {
		return errors.New("purpose too long")
	}
	if p == nil || (p.Raw == nil) == (p.Protected == nil) {
		return errors.New("the probe must have either raw features or a protected template")
	}
	v := p.Raw
	if v == nil {
		v = p.Protected
	}
	if err := checkVector(v.Values); err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	return nil
}

func checkVerify(r *pb.VerifyRequest) error {
	if err := checkQuery(r.Partner, r.Purpose, r.Probe); err != nil {
		return err
	}
	if r.Reference == "" || len(r.Reference) > wire.MaxNameLen {
		return fmt.Errorf("reference must be 1 to %d bytes", wire.MaxNameLen)
	}
	return nil
}

func checkKeys(r *pb.KeysRequest) error {
	if !slices.Contains(protocol.KeyActions, r.Action) {
		return fmt.Errorf("a key command needs one of the actions %v", protocol.KeyActions)
	}
	if err := r.Overlap.CheckValid(); r.Overlap != nil && err != nil {
		return errors.New("overlap out of range")
	}
	return nil
}

// checkRequest checks a request of any operation (the Status and PruneAudit requests have no
// fields to check).
func checkRequest(req any) error {
	switch r := req.(type) {
	case *pb.CeremonyRequest:
		return checkPartner(r.Partner)
	case *pb.RevokeRequest:
		return checkPartner(r.Partner)
	case *pb.EnrolRequest:
		return checkEnrol(r)
	case *pb.ReferencesRequest:
		return checkReferences(r)
	case *pb.ProtectRequest:
		return checkProtect(r)
	case *pb.SearchRequest:
		return checkQuery(r.Partner, r.Purpose, r.Probe)
	case *pb.VerifyRequest:
		return checkVerify(r)
	case *pb.KeysRequest:
		return checkKeys(r)
	case *pb.VerifyGalleryRequest:
		return checkPartner(r.Partner)
	case *pb.StatusRequest, *pb.PruneAuditRequest:
		return nil
	}
	return fmt.Errorf("no operation takes a %T", req)
}
