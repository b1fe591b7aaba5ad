package wire

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/keys"
	pb "github.com/puente-id/puente/proto/puente/v1"
)

// envelopeFixture is a signer, its keyring and a signed request.
type envelopeFixture struct {
	key     *keys.SigningKey
	ring    *keys.Keyring
	now     time.Time
	h       *pb.RequestHeader
	payload *pb.SearchPayload
	sig     []byte
}

func newEnvelopeFixture(t testing.TB) *envelopeFixture {
	t.Helper()
	k, err := keys.GenerateSigningKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	ring := &keys.Keyring{}
	if err := ring.Rotate("alpha", k.PublicKey(), now.Add(-time.Hour), 0); err != nil {
		t.Fatal(err)
	}
	h, err := NewRequestHeader(rand.Reader, now, "alpha", "beta", "ab", pb.MatchService_Search_FullMethodName)
	if err != nil {
		t.Fatal(err)
	}
	h.KeyEpoch, h.ParamSet, h.PurposeCode = 1, "INSECURE-test-n11", "border-screening"
	pl := &pb.SearchPayload{Probe: Describe(pb.HEObjectKind_HE_OBJECT_KIND_PROBE_CIPHERTEXT, "INSECURE-test-n11", []byte("probe"))}
	sig, err := SignRequest(h, pl, k)
	if err != nil {
		t.Fatal(err)
	}
	return &envelopeFixture{key: k, ring: ring, now: now, h: h, payload: pl, sig: sig}
}

func (f *envelopeFixture) check() RequestCheck {
	return RequestCheck{Partner: "alpha", Self: "beta", Method: pb.MatchService_Search_FullMethodName, Agreement: "ab",
		Ring: f.ring, Now: f.now.Add(time.Minute), Window: 5 * time.Minute}
}

func TestVerifyRequest(t *testing.T) {
	f := newEnvelopeFixture(t)
	if e := VerifyRequest(f.h, f.payload, f.sig, f.check()); e != nil {
		t.Fatalf("a good request is refused: %v", e)
	}
	tests := []struct {
		name  string
		edit  func(h *pb.RequestHeader, pl *pb.SearchPayload, sig []byte, c *RequestCheck) []byte
		code  codes.Code
		class audit.RefusalClass
	}{
		{"bad signature", func(h *pb.RequestHeader, _ *pb.SearchPayload, sig []byte, _ *RequestCheck) []byte {
			s := bytes.Clone(sig)
			s[100] ^= 1
			return s
		}, codes.Unauthenticated, audit.RefusedUnauthenticated},
		{"signed field changed", func(h *pb.RequestHeader, _ *pb.SearchPayload, sig []byte, _ *RequestCheck) []byte {
			h.KeyEpoch++
			return sig
		}, codes.Unauthenticated, audit.RefusedUnauthenticated},
		{"payload changed", func(_ *pb.RequestHeader, pl *pb.SearchPayload, sig []byte, _ *RequestCheck) []byte {
			pl.Probe.Size++
			return sig
		}, codes.Unauthenticated, audit.RefusedUnauthenticated},
		{"other partner's certificate", func(_ *pb.RequestHeader, _ *pb.SearchPayload, sig []byte, c *RequestCheck) []byte {
			c.Partner = "gamma"
			return sig
		}, codes.Unauthenticated, audit.RefusedUnauthenticated},
		{"addressed to another node", func(_ *pb.RequestHeader, _ *pb.SearchPayload, sig []byte, c *RequestCheck) []byte {
			c.Self = "delta"
			return sig
		}, codes.Unauthenticated, audit.RefusedUnauthenticated},
		{"replayed on another method", func(_ *pb.RequestHeader, _ *pb.SearchPayload, sig []byte, c *RequestCheck) []byte {
			c.Method = pb.MatchService_Verify_FullMethodName
			return sig
		}, codes.Unauthenticated, audit.RefusedUnauthenticated},
		{"stale", func(_ *pb.RequestHeader, _ *pb.SearchPayload, sig []byte, c *RequestCheck) []byte {
			c.Now = c.Now.Add(10 * time.Minute)
			return sig
		}, codes.Unauthenticated, audit.RefusedReplay},
		{"from the future", func(_ *pb.RequestHeader, _ *pb.SearchPayload, sig []byte, c *RequestCheck) []byte {
			c.Now = c.Now.Add(-10 * time.Minute)
			return sig
		}, codes.Unauthenticated, audit.RefusedReplay},
		{"other agreement", func(_ *pb.RequestHeader, _ *pb.SearchPayload, sig []byte, c *RequestCheck) []byte {
			c.Agreement = "zz"
			return sig
		}, codes.PermissionDenied, audit.RefusedPermission},
		{"short nonce", func(h *pb.RequestHeader, _ *pb.SearchPayload, sig []byte, _ *RequestCheck) []byte {
			h.Nonce = h.Nonce[:8]
			return sig
		}, codes.InvalidArgument, audit.RefusedInvalid},
		{"no timestamp", func(h *pb.RequestHeader, _ *pb.SearchPayload, sig []byte, _ *RequestCheck) []byte {
			h.SentAt = nil
			return sig
		}, codes.InvalidArgument, audit.RefusedInvalid},
		{"truncated signature", func(_ *pb.RequestHeader, _ *pb.SearchPayload, sig []byte, _ *RequestCheck) []byte {
			return sig[:100]
		}, codes.InvalidArgument, audit.RefusedInvalid},
	}
	for _, tt := range tests {
		g := newEnvelopeFixture(t)
		c := g.check()
		sig := tt.edit(g.h, g.payload, g.sig, &c)
		e := VerifyRequest(g.h, g.payload, sig, c)
		if e == nil {
			t.Errorf("%s: accepted", tt.name)
			continue
		}
		if e.Code != tt.code || e.Refusal != tt.class {
			t.Errorf("%s: %v / %s, want %v / %s (%v)", tt.name, e.Code, e.Refusal, tt.code, tt.class, e)
		}
		if e.GRPCStatus().Message() != e.Safe {
			t.Errorf("%s: the status carries %q, not the safe message", tt.name, e.GRPCStatus().Message())
		}
	}
}

func TestVerifyResponse(t *testing.T) {
	f := newEnvelopeFixture(t)
	result := &pb.MatchResult{Objects: []*pb.HEObject{Describe(pb.HEObjectKind_HE_OBJECT_KIND_PARTIAL_RESULT, "INSECURE-test-n11", []byte("r"))}}
	// The responder is "beta"; reuse the fixture's key as beta's for the test.
	ring := &keys.Keyring{}
	if err := ring.Rotate("beta", f.key.PublicKey(), f.now.Add(-time.Hour), 0); err != nil {
		t.Fatal(err)
	}
	rh, sig, err := SignResponse(f.h, result, f.key, f.now)
	if err != nil {
		t.Fatal(err)
	}
	c := ResponseCheck{Req: f.h, Partner: "beta", Ring: ring}
	if err := VerifyResponse(rh, result, sig, c); err != nil {
		t.Fatalf("good response refused: %v", err)
	}
	other := newEnvelopeFixture(t) // a response bound to another request
	if err := VerifyResponse(rh, result, sig, ResponseCheck{Req: other.h, Partner: "beta", Ring: ring}); err == nil {
		t.Error("a response to another request is accepted")
	}
	result.Objects[0].Size++
	if err := VerifyResponse(rh, result, sig, c); err == nil {
		t.Error("a changed result descriptor is accepted")
	}
	result.Objects[0].Size--
	rh.SentAt = timestamppb.New(f.now.Add(time.Second))
	if err := VerifyResponse(rh, result, sig, c); !errors.Is(err, keys.ErrBadSignature) {
		t.Errorf("a changed header: %v, want a bad signature", err)
	}
}

// FuzzVerifyRequest decodes arbitrary bytes as the open message of a Search and checks them as
// a responder would: never a panic, nothing but the signed request is accepted, and a decoded
// message survives a re-encoding with its canonical encoding and its verdict.
func FuzzVerifyRequest(f *testing.F) {
	fx := newEnvelopeFixture(f)
	good, _ := proto.Marshal(&pb.SearchOpen{Header: fx.h, Payload: fx.payload, Signature: fx.sig})
	f.Add(good)
	f.Add([]byte{0x0a, 0x02, 0x0a, 0x00})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var o pb.SearchOpen
		if proto.Unmarshal(b, &o) != nil {
			return
		}
		if o.Payload == nil {
			o.Payload = &pb.SearchPayload{}
		}
		e := VerifyRequest(o.Header, o.Payload, o.Signature, fx.check())
		if e == nil && !proto.Equal(o.Header, fx.h) {
			t.Fatalf("accepted a header that is not the signed one")
		}
		// Protobuf's binary encoding is not canonical (field order, repeated or packed forms all
		// decode), so the bytes need not round-trip: the weaker property is that re-encoding
		// and decoding again gives an equal message, with the same CE and the same verdict.
		again, err := proto.Marshal(&o)
		if err != nil {
			t.Fatal(err)
		}
		var o2 pb.SearchOpen
		if err := proto.Unmarshal(again, &o2); err != nil || !proto.Equal(&o, &o2) {
			t.Fatalf("a decoded message does not decode again from its encoding: %v", err)
		}
		if !bytes.Equal(Canonical(o2.Header), Canonical(o.Header)) || !bytes.Equal(Canonical(o2.Payload), Canonical(o.Payload)) {
			t.Fatal("re-decoding changed the canonical encoding")
		}
		if e2 := VerifyRequest(o2.Header, o2.Payload, o2.Signature, fx.check()); (e == nil) != (e2 == nil) {
			t.Fatalf("verdicts differ after a round trip: %v, then %v", e, e2)
		}
	})
}
