package wire

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/keys"
	pb "github.com/puente-id/puente/proto/puente/v1"
)

// ProtocolVersion is the version of the wire protocol this node speaks (envelope.proto,
// Versions): every header carries it, and a request or response of another version is refused.
const ProtocolVersion = 2

// FIPS 204 context strings of the request and response signatures (envelope.proto).
const (
	DomainRequest  = "puente/v1 request"
	DomainResponse = "puente/v1 response"
)

// Signer signs with this node's current ML-DSA-65 key. keys.SigningKey implements it.
type Signer interface {
	// ID is the key's ID: SHA-256 of its FIPS 204 public key.
	ID() keys.KeyID
	// Sign returns a hedged ML-DSA-65 signature of msg under the context string domain.
	Sign(domain string, msg []byte) ([]byte, error)
}

var _ Signer = (*keys.SigningKey)(nil)

// Pinner is a Signer whose key may change between calls (a rotation through the running node):
// Current returns the key to make one signature with, so that the key ID a header names and the
// key that signs it are the same.
type Pinner interface {
	Signer
	Current() Signer
}

// pinned returns the key a signature is made with: a Pinner's current one, s itself otherwise.
func pinned(s Signer) Signer {
	if p, ok := s.(Pinner); ok {
		return p.Current()
	}
	return s
}

// Verifier checks a partner's signatures: keys.Keyring implements it. The error wraps
// keys.ErrUnknownSigner, keys.ErrNotValidAt or keys.ErrBadSignature.
type Verifier interface {
	Verify(signerID string, at time.Time, domain string, msg, sig []byte) error
}

var _ Verifier = (*keys.Keyring)(nil)

// Field limits of the signed headers.
const (
	RequestIDLen  = 16
	MinNonceLen   = 16
	MaxNonceLen   = 32
	DigestLen     = 64
	KeyIDLen      = 32
	MaxNameLen    = 128
	MaxParamSet   = 64
	MaxPurposeLen = 32
	SignatureLen  = 3309 // ML-DSA-65 (FIPS 204, Table 2)
)

// NewRequestHeader fills the header fields that are the same for every request: a fresh
// request ID and nonce from rand, the time, the sender and recipient, the method.
func NewRequestHeader(rnd io.Reader, now time.Time, self, partner, agreement, method string) (*pb.RequestHeader, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	id := make([]byte, RequestIDLen)
	nonce := make([]byte, MinNonceLen)
	if _, err := io.ReadFull(rnd, id); err != nil {
		return nil, fmt.Errorf("protocol: randomness for a request ID: %w", err)
	}
	if _, err := io.ReadFull(rnd, nonce); err != nil {
		return nil, fmt.Errorf("protocol: randomness for a nonce: %w", err)
	}
	return &pb.RequestHeader{RequestId: id, AgreementId: agreement, Sender: self, Recipient: partner,
		Method: method, SentAt: timestamppb.New(now), Nonce: nonce, ProtocolVersion: ProtocolVersion}, nil
}

// SignRequest binds payload to h (payload_digest, signing_key_id) and signs CE(h).
func SignRequest(h *pb.RequestHeader, payload proto.Message, s Signer) ([]byte, error) {
	s = pinned(s)
	id := s.ID()
	h.SigningKeyId = id[:]
	h.PayloadDigest = Digest(payload)
	sig, err := s.Sign(DomainRequest, Canonical(h))
	if err != nil {
		return nil, fmt.Errorf("protocol: signing request: %w", err)
	}
	return sig, nil
}

// SignResponse builds and signs the response header for request req.
func SignResponse(req *pb.RequestHeader, payload proto.Message, s Signer, now time.Time) (*pb.ResponseHeader, []byte, error) {
	return SignResponseWithHead(req, payload, s, now, nil)
}

// SignResponseWithHead is signResponse for an answer that carries the responder's audit head:
// head, when not nil, is signed as an audit.HeadStatement by the same key, and set in the header.
func SignResponseWithHead(req *pb.RequestHeader, payload proto.Message, s Signer, now time.Time, head *audit.Head) (*pb.ResponseHeader, []byte, error) {
	s = pinned(s)
	id := s.ID()
	h := &pb.ResponseHeader{RequestId: req.RequestId, RequestDigest: Digest(req), Sender: req.Recipient,
		Recipient: req.Sender, SentAt: timestamppb.New(now), KeyEpoch: req.KeyEpoch, ParamSet: req.ParamSet,
		SigningKeyId: id[:], PayloadDigest: Digest(payload), ProtocolVersion: ProtocolVersion}
	if head != nil {
		ah, err := SignHead(s, req.Recipient, *head)
		if err != nil {
			return nil, nil, err
		}
		h.AuditHead = ah
	}
	sig, err := s.Sign(DomainResponse, Canonical(h))
	if err != nil {
		return nil, nil, fmt.Errorf("protocol: signing response: %w", err)
	}
	return h, sig, nil
}

// CheckRequestShape checks the header's fields for presence and size, before anything else.
func CheckRequestShape(h *pb.RequestHeader, sig []byte) error {
	switch {
	case h == nil:
		return errors.New("no header")
	case len(h.RequestId) != RequestIDLen:
		return fmt.Errorf("request_id is %d bytes, want %d", len(h.RequestId), RequestIDLen)
	case h.AgreementId == "" || len(h.AgreementId) > MaxNameLen:
		return errors.New("agreement_id must be 1 to 128 bytes")
	case h.Sender == "" || len(h.Sender) > MaxNameLen || h.Recipient == "" || len(h.Recipient) > MaxNameLen:
		return errors.New("sender and recipient must be 1 to 128 bytes")
	case h.Method == "" || len(h.Method) > 256:
		return errors.New("method must be 1 to 256 bytes")
	case h.SentAt == nil || h.SentAt.CheckValid() != nil:
		return errors.New("sent_at is missing or not a valid time")
	case len(h.Nonce) < MinNonceLen || len(h.Nonce) > MaxNonceLen:
		return fmt.Errorf("nonce is %d bytes, want %d to %d", len(h.Nonce), MinNonceLen, MaxNonceLen)
	case len(h.ParamSet) > MaxParamSet || len(h.PurposeCode) > MaxPurposeLen:
		return errors.New("param_set or purpose_code too long")
	case len(h.SigningKeyId) != KeyIDLen:
		return fmt.Errorf("signing_key_id is %d bytes, want %d", len(h.SigningKeyId), KeyIDLen)
	case len(h.PayloadDigest) != DigestLen:
		return fmt.Errorf("payload_digest is %d bytes, want %d", len(h.PayloadDigest), DigestLen)
	case len(sig) != SignatureLen:
		return fmt.Errorf("signature is %d bytes, want %d", len(sig), SignatureLen)
	}
	return nil
}

// RequestCheck is what a receiver expects of a request header.
type RequestCheck struct {
	Partner   string // authenticated by the mTLS certificate
	Self      string
	Method    string
	Agreement string
	Ring      Verifier
	Now       time.Time
	Window    time.Duration
}

// VerifyRequest checks a request as envelope.proto says, in this order: shape, payload digest,
// sender (against the mTLS partner), time window, signature, recipient and method, agreement.
// The nonce, epoch, parameter set and purpose are the caller's to check.
func VerifyRequest(h *pb.RequestHeader, payload proto.Message, sig []byte, c RequestCheck) *Error {
	if h != nil && h.ProtocolVersion != ProtocolVersion {
		return Precondition(VersionMismatch(h.ProtocolVersion), nil)
	}
	if err := CheckRequestShape(h, sig); err != nil {
		return Invalid("malformed request header", err)
	}
	if HasUnknown(h.ProtoReflect()) || HasUnknown(payload.ProtoReflect()) {
		return Invalid("request carries fields this node does not know", nil)
	}
	if subtle.ConstantTimeCompare(Digest(payload), h.PayloadDigest) != 1 {
		return Unauthenticated("payload digest does not match the signed header", nil)
	}
	if h.Sender != c.Partner {
		return Unauthenticated("sender does not match the TLS client certificate", fmt.Errorf("sender %q, certificate of %q", h.Sender, c.Partner))
	}
	sentAt := h.SentAt.AsTime()
	if skew := c.Now.Sub(sentAt); skew > c.Window || skew < -c.Window {
		return Replayed("request timestamp outside the replay window", fmt.Errorf("skew %v, window %v", skew.Round(time.Second), c.Window))
	}
	if err := c.Ring.Verify(hex.EncodeToString(h.SigningKeyId), sentAt, DomainRequest, Canonical(h), sig); err != nil {
		return Unauthenticated("request signature does not verify", err)
	}
	if h.Recipient != c.Self || h.Method != c.Method {
		return Unauthenticated("request is addressed to another node or method", fmt.Errorf("recipient %q method %q", h.Recipient, h.Method))
	}
	if h.AgreementId != c.Agreement {
		return Permission("agreement is not the one with this partner", fmt.Errorf("agreement %q", h.AgreementId))
	}
	return nil
}

// VersionMismatch is the refusal of a partner speaking another protocol version. A header from
// a version-1 node has no protocol_version (it reads as 0).
func VersionMismatch(got uint32) string {
	if got == 0 {
		got = 1
	}
	return fmt.Sprintf("the partner speaks Puente protocol version %d, this node version %d: upgrade the older node", got, ProtocolVersion)
}

// ResponseCheck is what a client expects of a response header.
type ResponseCheck struct {
	Req     *pb.RequestHeader
	Partner string
	Ring    Verifier
}

// VerifyResponse checks a response against its request: binding (request ID and digest),
// sender and recipient, epoch and parameter set, payload digest and signature.
func VerifyResponse(h *pb.ResponseHeader, payload proto.Message, sig []byte, c ResponseCheck) error {
	switch {
	case h == nil:
		return errors.New("response has no header")
	case len(h.SigningKeyId) != KeyIDLen || len(h.PayloadDigest) != DigestLen || len(sig) != SignatureLen:
		return errors.New("response header: key ID, payload digest or signature has the wrong size")
	case h.SentAt == nil || h.SentAt.CheckValid() != nil:
		return errors.New("response header: sent_at is missing")
	case h.ProtocolVersion != ProtocolVersion:
		return errors.New(VersionMismatch(h.ProtocolVersion))
	case subtle.ConstantTimeCompare(h.RequestId, c.Req.RequestId) != 1 ||
		subtle.ConstantTimeCompare(h.RequestDigest, Digest(c.Req)) != 1:
		return errors.New("response is not bound to this request")
	case h.Sender != c.Partner || h.Recipient != c.Req.Sender:
		return fmt.Errorf("response from %q to %q, want %q to %q", h.Sender, h.Recipient, c.Partner, c.Req.Sender)
	case h.KeyEpoch != c.Req.KeyEpoch || h.ParamSet != c.Req.ParamSet:
		return errors.New("response epoch or parameter set differs from the request's")
	case subtle.ConstantTimeCompare(Digest(payload), h.PayloadDigest) != 1:
		return errors.New("response payload digest does not match the signed header")
	case HasUnknown(h.ProtoReflect()) || HasUnknown(payload.ProtoReflect()):
		return errors.New("response carries fields this node does not know")
	}
	if err := c.Ring.Verify(hex.EncodeToString(h.SigningKeyId), h.SentAt.AsTime(), DomainResponse, Canonical(h), sig); err != nil {
		return fmt.Errorf("response signature: %w", err)
	}
	return nil
}

// SignHead signs node's audit head h with s (a pinned key) for a response header.
func SignHead(s Signer, node string, h audit.Head) (*pb.AuditHead, error) {
	as, ok := s.(audit.Signer)
	if !ok {
		return nil, errors.New("protocol: the signing key cannot sign an audit head")
	}
	hash, err := hex.DecodeString(h.Hash)
	if err != nil {
		return nil, fmt.Errorf("protocol: audit head: %w", err)
	}
	sig, err := audit.SignHead(as, node, h)
	if err != nil {
		return nil, err
	}
	return &pb.AuditHead{Seq: h.Seq, Hash: hash, Signature: sig}, nil
}
