package protocol

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

// Verifier checks a partner's signatures: keys.Keyring implements it. The error wraps
// keys.ErrUnknownSigner, keys.ErrNotValidAt or keys.ErrBadSignature.
type Verifier interface {
	Verify(signerID string, at time.Time, domain string, msg, sig []byte) error
}

var _ Verifier = (*keys.Keyring)(nil)

// Field limits of the signed headers.
const (
	requestIDLen  = 16
	minNonceLen   = 16
	maxNonceLen   = 32
	digestLen     = 64
	keyIDLen      = 32
	maxNameLen    = 128
	maxParamSet   = 64
	maxPurposeLen = 32
	signatureLen  = 3309 // ML-DSA-65 (FIPS 204, Table 2)
)

// newRequestHeader fills the header fields that are the same for every request: a fresh
// request ID and nonce from rand, the time, the sender and recipient, the method.
func newRequestHeader(rnd io.Reader, now time.Time, self, partner, agreement, method string) (*pb.RequestHeader, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	id := make([]byte, requestIDLen)
	nonce := make([]byte, minNonceLen)
	if _, err := io.ReadFull(rnd, id); err != nil {
		return nil, fmt.Errorf("protocol: randomness for a request ID: %w", err)
	}
	if _, err := io.ReadFull(rnd, nonce); err != nil {
		return nil, fmt.Errorf("protocol: randomness for a nonce: %w", err)
	}
	return &pb.RequestHeader{RequestId: id, AgreementId: agreement, Sender: self, Recipient: partner,
		Method: method, SentAt: timestamppb.New(now), Nonce: nonce, ProtocolVersion: ProtocolVersion}, nil
}

// signRequest binds payload to h (payload_digest, signing_key_id) and signs CE(h).
func signRequest(h *pb.RequestHeader, payload proto.Message, s Signer) ([]byte, error) {
	s = pinned(s)
	id := s.ID()
	h.SigningKeyId = id[:]
	h.PayloadDigest = digest(payload)
	sig, err := s.Sign(DomainRequest, canonical(h))
	if err != nil {
		return nil, fmt.Errorf("protocol: signing request: %w", err)
	}
	return sig, nil
}

// signResponse builds and signs the response header for request req.
func signResponse(req *pb.RequestHeader, payload proto.Message, s Signer, now time.Time) (*pb.ResponseHeader, []byte, error) {
	return signResponseWithHead(req, payload, s, now, nil)
}

// signResponseWithHead is signResponse for an answer that carries the responder's audit head:
// head, when not nil, is signed as an audit.HeadStatement by the same key, and set in the header.
func signResponseWithHead(req *pb.RequestHeader, payload proto.Message, s Signer, now time.Time, head *audit.Head) (*pb.ResponseHeader, []byte, error) {
	s = pinned(s)
	id := s.ID()
	h := &pb.ResponseHeader{RequestId: req.RequestId, RequestDigest: digest(req), Sender: req.Recipient,
		Recipient: req.Sender, SentAt: timestamppb.New(now), KeyEpoch: req.KeyEpoch, ParamSet: req.ParamSet,
		SigningKeyId: id[:], PayloadDigest: digest(payload), ProtocolVersion: ProtocolVersion}
	if head != nil {
		ah, err := signHead(s, req.Recipient, *head)
		if err != nil {
			return nil, nil, err
		}
		h.AuditHead = ah
	}
	sig, err := s.Sign(DomainResponse, canonical(h))
	if err != nil {
		return nil, nil, fmt.Errorf("protocol: signing response: %w", err)
	}
	return h, sig, nil
}

// checkRequestShape checks the header's fields for presence and size, before anything else.
func checkRequestShape(h *pb.RequestHeader, sig []byte) error {
	switch {
	case h == nil:
		return errors.New("no header")
	case len(h.RequestId) != requestIDLen:
		return fmt.Errorf("request_id is %d bytes, want %d", len(h.RequestId), requestIDLen)
	case h.AgreementId == "" || len(h.AgreementId) > maxNameLen:
		return errors.New("agreement_id must be 1 to 128 bytes")
	case h.Sender == "" || len(h.Sender) > maxNameLen || h.Recipient == "" || len(h.Recipient) > maxNameLen:
		return errors.New("sender and recipient must be 1 to 128 bytes")
	case h.Method == "" || len(h.Method) > 256:
		return errors.New("method must be 1 to 256 bytes")
	case h.SentAt == nil || h.SentAt.CheckValid() != nil:
		return errors.New("sent_at is missing or not a valid time")
	case len(h.Nonce) < minNonceLen || len(h.Nonce) > maxNonceLen:
		return fmt.Errorf("nonce is %d bytes, want %d to %d", len(h.Nonce), minNonceLen, maxNonceLen)
	case len(h.ParamSet) > maxParamSet || len(h.PurposeCode) > maxPurposeLen:
		return errors.New("param_set or purpose_code too long")
	case len(h.SigningKeyId) != keyIDLen:
		return fmt.Errorf("signing_key_id is %d bytes, want %d", len(h.SigningKeyId), keyIDLen)
	case len(h.PayloadDigest) != digestLen:
		return fmt.Errorf("payload_digest is %d bytes, want %d", len(h.PayloadDigest), digestLen)
	case len(sig) != signatureLen:
		return fmt.Errorf("signature is %d bytes, want %d", len(sig), signatureLen)
	}
	return nil
}

// requestCheck is what a receiver expects of a request header.
type requestCheck struct {
	partner   string // authenticated by the mTLS certificate
	self      string
	method    string
	agreement string
	ring      Verifier
	now       time.Time
	window    time.Duration
}

// verifyRequest checks a request as envelope.proto says, in this order: shape, payload digest,
// sender (against the mTLS partner), time window, signature, recipient and method, agreement.
// The nonce, epoch, parameter set and purpose are the caller's to check.
func verifyRequest(h *pb.RequestHeader, payload proto.Message, sig []byte, c requestCheck) *Error {
	if h != nil && h.ProtocolVersion != ProtocolVersion {
		return precondition(versionMismatch(h.ProtocolVersion), nil)
	}
	if err := checkRequestShape(h, sig); err != nil {
		return invalid("malformed request header", err)
	}
	if hasUnknown(h.ProtoReflect()) || hasUnknown(payload.ProtoReflect()) {
		return invalid("request carries fields this node does not know", nil)
	}
	if subtle.ConstantTimeCompare(digest(payload), h.PayloadDigest) != 1 {
		return unauthenticated("payload digest does not match the signed header", nil)
	}
	if h.Sender != c.partner {
		return unauthenticated("sender does not match the TLS client certificate", fmt.Errorf("sender %q, certificate of %q", h.Sender, c.partner))
	}
	sentAt := h.SentAt.AsTime()
	if skew := c.now.Sub(sentAt); skew > c.window || skew < -c.window {
		return replayed("request timestamp outside the replay window", fmt.Errorf("skew %v, window %v", skew.Round(time.Second), c.window))
	}
	if err := c.ring.Verify(hex.EncodeToString(h.SigningKeyId), sentAt, DomainRequest, canonical(h), sig); err != nil {
		return unauthenticated("request signature does not verify", err)
	}
	if h.Recipient != c.self || h.Method != c.method {
		return unauthenticated("request is addressed to another node or method", fmt.Errorf("recipient %q method %q", h.Recipient, h.Method))
	}
	if h.AgreementId != c.agreement {
		return permission("agreement is not the one with this partner", fmt.Errorf("agreement %q", h.AgreementId))
	}
	return nil
}

// versionMismatch is the refusal of a partner speaking another protocol version. A header from
// a version-1 node has no protocol_version (it reads as 0).
func versionMismatch(got uint32) string {
	if got == 0 {
		got = 1
	}
	return fmt.Sprintf("the partner speaks Puente protocol version %d, this node version %d: upgrade the older node", got, ProtocolVersion)
}

// responseCheck is what a client expects of a response header.
type responseCheck struct {
	req     *pb.RequestHeader
	partner string
	ring    Verifier
}

// verifyResponse checks a response against its request: binding (request ID and digest),
// sender and recipient, epoch and parameter set, payload digest and signature.
func verifyResponse(h *pb.ResponseHeader, payload proto.Message, sig []byte, c responseCheck) error {
	switch {
	case h == nil:
		return errors.New("response has no header")
	case len(h.SigningKeyId) != keyIDLen || len(h.PayloadDigest) != digestLen || len(sig) != signatureLen:
		return errors.New("response header: key ID, payload digest or signature has the wrong size")
	case h.SentAt == nil || h.SentAt.CheckValid() != nil:
		return errors.New("response header: sent_at is missing")
	case h.ProtocolVersion != ProtocolVersion:
		return errors.New(versionMismatch(h.ProtocolVersion))
	case subtle.ConstantTimeCompare(h.RequestId, c.req.RequestId) != 1 ||
		subtle.ConstantTimeCompare(h.RequestDigest, digest(c.req)) != 1:
		return errors.New("response is not bound to this request")
	case h.Sender != c.partner || h.Recipient != c.req.Sender:
		return fmt.Errorf("response from %q to %q, want %q to %q", h.Sender, h.Recipient, c.partner, c.req.Sender)
	case h.KeyEpoch != c.req.KeyEpoch || h.ParamSet != c.req.ParamSet:
		return errors.New("response epoch or parameter set differs from the request's")
	case subtle.ConstantTimeCompare(digest(payload), h.PayloadDigest) != 1:
		return errors.New("response payload digest does not match the signed header")
	case hasUnknown(h.ProtoReflect()) || hasUnknown(payload.ProtoReflect()):
		return errors.New("response carries fields this node does not know")
	}
	if err := c.ring.Verify(hex.EncodeToString(h.SigningKeyId), h.SentAt.AsTime(), DomainResponse, canonical(h), sig); err != nil {
		return fmt.Errorf("response signature: %w", err)
	}
	return nil
}
