package protocol

import (
	"github.com/puente-id/puente/he"
	pb "github.com/puente-id/puente/proto/puente/v1"
)

// paramDigest is the param_set_digest of a Hello: the he package's SHA-512 of the set's
// canonical description, so that two builds naming the same set with different numbers are
// caught before any share is made.
func paramDigest(ps *he.ParamSet) []byte {
	d := ps.Digest()
	return d[:]
}

// maxDimsFor is the key sets' maximum template dimension for protected templates of m values:
// the next power of two (the he package pads templates to it).
func maxDimsFor(m int) int {
	d := 2
	for d < m {
		d <<= 1
	}
	return d
}

// objectLimit is the largest size a received HE object of a kind may declare for ps, checked
// before any of its bytes are accepted; the he package then checks the exact size and every
// field when it decodes the object.
func objectLimit(ps *he.ParamSet, kind pb.HEObjectKind) int64 {
	info := ps.Info()
	switch kind {
	case pb.HEObjectKind_HE_OBJECT_KIND_PROBE_CIPHERTEXT:
		return int64(info.QueryBytes)
	case pb.HEObjectKind_HE_OBJECT_KIND_ANSWER:
		return int64(info.AnswerBytes)
	case pb.HEObjectKind_HE_OBJECT_KIND_GARBLED_CIRCUIT:
		return int64(info.GarbledBytes)
	case pb.HEObjectKind_HE_OBJECT_KIND_TRANSFER_REQUEST:
		return int64(info.TransferRequestBytes)
	case pb.HEObjectKind_HE_OBJECT_KIND_TRANSFER_ANSWER:
		return int64(info.TransferAnswerBytes)
	case pb.HEObjectKind_HE_OBJECT_KIND_CKG_SHARE:
		return int64(info.CiphertextBytesLevel) + 4096
	case pb.HEObjectKind_HE_OBJECT_KIND_RKG_SHARE_ROUND1, pb.HEObjectKind_HE_OBJECT_KIND_RKG_SHARE_ROUND2:
		return int64(info.RelinKeyBytes) + 4096
	case pb.HEObjectKind_HE_OBJECT_KIND_GKG_SHARE:
		return int64(info.GaloisKeyBytes)/2 + 4096
	}
	return 0 // the retired kinds of the first release among them
}

// stepOf maps a key-share descriptor to the he ceremony step it carries.
func stepOf(kind pb.HEObjectKind, galEl uint64) (he.Step, bool) {
	switch kind {
	case pb.HEObjectKind_HE_OBJECT_KIND_CKG_SHARE:
		return he.Step{Kind: he.StepPublicKey}, galEl == 0
	case pb.HEObjectKind_HE_OBJECT_KIND_RKG_SHARE_ROUND1:
		return he.Step{Kind: he.StepRelinRound1}, galEl == 0
	case pb.HEObjectKind_HE_OBJECT_KIND_RKG_SHARE_ROUND2:
		return he.Step{Kind: he.StepRelinRound2}, galEl == 0
	case pb.HEObjectKind_HE_OBJECT_KIND_GKG_SHARE:
		return he.Step{Kind: he.StepGalois, GaloisElement: galEl}, galEl != 0
	}
	return he.Step{}, false
}

// kindOf is stepOf's inverse.
func kindOf(s he.Step) pb.HEObjectKind {
	switch s.Kind {
	case he.StepPublicKey:
		return pb.HEObjectKind_HE_OBJECT_KIND_CKG_SHARE
	case he.StepRelinRound1:
		return pb.HEObjectKind_HE_OBJECT_KIND_RKG_SHARE_ROUND1
	case he.StepRelinRound2:
		return pb.HEObjectKind_HE_OBJECT_KIND_RKG_SHARE_ROUND2
	}
	return pb.HEObjectKind_HE_OBJECT_KIND_GKG_SHARE
}
