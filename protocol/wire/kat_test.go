package wire

import (
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/internal/kattest"
	"github.com/puente-id/puente/keys"
	pb "github.com/puente-id/puente/proto/puente/v1"
)

// kat holds this package's known answers: the canonical encoding of signed headers and payloads,
// their digests, the messages their signatures are made over, and the chunks of a fixed payload.
// The canonical encoding of a bare header is checked against the schema-driven reference encoder's
// vectors in proto/puente/v1/testdata instead (TestCanonicalEncodingKnownAnswer).
var kat = &kattest.File{Path: "testdata/kat.txt", Header: "Known answers of package wire (protocol/wire/kat_test.go): canonical encodings, SHA-512 digests,\n" +
	"FIPS 204 signing inputs and chunk layouts of fixed messages. A change here is a change of the wire format."}

// recordingSigner signs with a fixed key ID and a fixed "signature", and records what it signs.
type recordingSigner struct{ signed map[string][]byte }

func (s *recordingSigner) ID() keys.KeyID {
	var id keys.KeyID
	for i := range id {
		id[i] = 0x33
	}
	return id
}

func (s *recordingSigner) SignerID() string { return s.ID().String() }

func (s *recordingSigner) Sign(domain string, msg []byte) ([]byte, error) {
	s.signed[domain] = append([]byte(nil), msg...)
	return bytes.Repeat([]byte{0x55}, SignatureLen), nil
}

// signingInput is M' of FIPS 204 Algorithm 2 (ML-DSA.Sign, pure, with a context string): the
// bytes ML-DSA-65 signs for a message msg under the context string domain.
func signingInput(domain string, msg []byte) []byte {
	return append(append([]byte{0, byte(len(domain))}, domain...), msg...)
}

// katRequest is a Search request made from fixed randomness and time, signed by s.
func katRequest(t *testing.T, s Signer) (*pb.RequestHeader, *pb.SearchPayload) {
	t.Helper()
	rnd := bytes.NewReader(bytes.Repeat([]byte{0x01, 0x02}, 16)) // request ID, then nonce
	h, err := NewRequestHeader(rnd, time.Date(2026, 1, 1, 0, 0, 0, 500, time.UTC),
		"us-cbp-node-1", "co-migracion-node-1", "us-co-2026", pb.MatchService_Search_FullMethodName)
	if err != nil {
		t.Fatal(err)
	}
	h.KeyEpoch, h.ParamSet, h.PurposeCode = 3, "puente-ckks-n15-v2", "border-screening"
	pl := &pb.SearchPayload{Probe: Describe(pb.HEObjectKind_HE_OBJECT_KIND_PROBE_CIPHERTEXT, "puente-ckks-n15-v2", []byte("probe"))}
	if _, err := SignRequest(h, pl, s); err != nil {
		t.Fatal(err)
	}
	return h, pl
}

// TestEnvelopeKnownAnswers: a request and the response to it, made from fixed inputs, encode,
// digest and are signed over exactly the recorded bytes.
func TestEnvelopeKnownAnswers(t *testing.T) {
	s := &recordingSigner{signed: map[string][]byte{}}
	h, pl := katRequest(t, s)
	if !bytes.Equal(s.signed[DomainRequest], Canonical(h)) {
		t.Fatal("the request signature is not over CE(header)")
	}
	kat.Check(t, "search-payload/ce", Canonical(pl))
	kat.Check(t, "search-payload/sha512", Digest(pl))
	kat.Check(t, "request-header/ce", Canonical(h))
	kat.Check(t, "request-header/sha512", Digest(h))
	kat.Check(t, "request-header/signing-input", signingInput(DomainRequest, s.signed[DomainRequest]))

	result := &pb.MatchResult{Objects: []*pb.HEObject{Describe(pb.HEObjectKind_HE_OBJECT_KIND_PARTIAL_RESULT, "puente-ckks-n15-v2", []byte("answer"))}}
	head := audit.Head{Seq: 7, Hash: fmt.Sprintf("%x", bytes.Repeat([]byte{0xab}, 32))}
	rh, _, err := SignResponseWithHead(h, result, s, time.Date(2026, 1, 1, 0, 0, 2, 0, time.UTC), &head)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(rh.RequestDigest, Digest(h)) || !bytes.Equal(s.signed[DomainResponse], Canonical(rh)) {
		t.Fatal("the response is not bound to the request's digest, or not signed over CE(header)")
	}
	kat.Check(t, "match-result/ce", Canonical(result))
	kat.Check(t, "response-header/ce", Canonical(rh))
	kat.Check(t, "response-header/sha512", Digest(rh))
	kat.Check(t, "response-header/signing-input", signingInput(DomainResponse, s.signed[DomainResponse]))
	kat.Check(t, "audit-head/signing-input", signingInput(audit.HeadDomain, s.signed[audit.HeadDomain]))
}

// katObjects are two HE objects: one of two and a half chunks of fixed bytes (SHA-512 of a
// counter, block after block), and a short one.
func katObjects() [][]byte {
	big := make([]byte, 0, SendChunkSize*5/2)
	for i := uint64(0); len(big) < cap(big); i++ {
		sum := sha512.Sum512(binary.BigEndian.AppendUint64(nil, i))
		big = append(big, sum[:min(len(sum), cap(big)-len(big))]...)
	}
	return [][]byte{big, []byte("probe")}
}

// TestChunkingKnownAnswers: fixed objects are sent as the recorded chunks (object index, offset,
// length and SHA-512 of each chunk's data) under the recorded descriptors, and the chunks
// reassemble into the objects.
func TestChunkingKnownAnswers(t *testing.T) {
	objs := katObjects()
	var chunks []*pb.Chunk
	n, err := SendObjects(func(c *pb.Chunk) error { chunks = append(chunks, c); return nil }, objs...)
	if err != nil || n != int64(len(objs[0])+len(objs[1])) {
		t.Fatalf("SendObjects: %d, %v", n, err)
	}
	var descs []*pb.HEObject
	for i, o := range objs {
		descs = append(descs, Describe(pb.HEObjectKind_HE_OBJECT_KIND_PROBE_CIPHERTEXT, "puente-ckks-n15-v2", o))
		kat.Check(t, fmt.Sprintf("chunks/descriptor-%d/ce", i), Canonical(descs[i]))
	}
	for i, c := range chunks {
		sum := sha512.Sum512(c.Data)
		b := binary.BigEndian.AppendUint32(nil, c.ObjectIndex)
		b = binary.BigEndian.AppendUint64(b, c.Offset)
		b = binary.BigEndian.AppendUint32(b, uint32(len(c.Data)))
		kat.Check(t, fmt.Sprintf("chunks/chunk-%d/index-offset-length-sha512", i), append(b, sum[:]...))
	}
	kat.Check(t, "chunks/count", binary.BigEndian.AppendUint32(nil, uint32(len(chunks))))
	got, err := ReceiveObjects(context.Background(), chunkSource(chunks), descs, true)
	if err != nil || !bytes.Equal(got[0], objs[0]) || !bytes.Equal(got[1], objs[1]) {
		t.Fatalf("the chunks do not reassemble: %v", err)
	}
}
