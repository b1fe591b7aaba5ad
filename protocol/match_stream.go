package protocol

import (
	"context"
	"errors"

	"google.golang.org/protobuf/proto"

	pb "github.com/puente-id/puente/proto/puente/v1"
)

// The server side of Search and Verify streams, behind one interface: the generated types of the
// two methods differ only in their payloads.

// matchOpen is the first message of a Search or Verify stream.
type matchOpen struct {
	header    *pb.RequestHeader
	payload   proto.Message
	sig       []byte
	probe     *pb.HEObject
	reference string // Verify only
}

// openingOpen is the first message of a Search or Verify stream's second round.
type openingOpen struct {
	header   *pb.RequestHeader
	payload  *pb.OpeningPayload
	sig      []byte
	transfer *pb.HEObject
}

func openingFrom(o *pb.OpeningOpen) (*openingOpen, error) {
	if o == nil {
		return nil, errors.New("expected the opening message")
	}
	if o.Payload == nil {
		o.Payload = &pb.OpeningPayload{}
	}
	return &openingOpen{header: o.Header, payload: o.Payload, sig: o.Signature, transfer: o.Payload.TransferRequest}, nil
}

// matchStream is the part of a Search or Verify server stream the handler uses.
type matchStream interface {
	Context() context.Context
	open() (*matchOpen, error)
	chunk() (*pb.Chunk, error)
	opening() (*openingOpen, error) // io.EOF when the querier ended the call instead
	sendOpen(*pb.MatchResponseOpen) error
	sendChunk(*pb.Chunk) error
}

type searchStream struct{ pb.MatchService_SearchServer }

func (s searchStream) open() (*matchOpen, error) {
	m, err := s.Recv()
	if err != nil {
		return nil, err
	}
	o := m.GetOpen()
	if o == nil {
		return nil, errors.New("first message is not an open message")
	}
	if o.Payload == nil {
		o.Payload = &pb.SearchPayload{}
	}
	return &matchOpen{header: o.Header, payload: o.Payload, sig: o.Signature, probe: o.Payload.Probe}, nil
}

func (s searchStream) chunk() (*pb.Chunk, error) {
	m, err := s.Recv()
	if err != nil {
		return nil, err
	}
	return m.GetChunk(), nil
}

func (s searchStream) opening() (*openingOpen, error) {
	m, err := s.Recv()
	if err != nil {
		return nil, err
	}
	return openingFrom(m.GetOpening())
}

func (s searchStream) sendOpen(o *pb.MatchResponseOpen) error {
	return s.Send(&pb.SearchResponse{Part: &pb.SearchResponse_Open{Open: o}})
}

func (s searchStream) sendChunk(c *pb.Chunk) error {
	return s.Send(&pb.SearchResponse{Part: &pb.SearchResponse_Chunk{Chunk: c}})
}

type verifyStream struct{ pb.MatchService_VerifyServer }

func (s verifyStream) open() (*matchOpen, error) {
	m, err := s.Recv()
	if err != nil {
		return nil, err
	}
	o := m.GetOpen()
	if o == nil {
		return nil, errors.New("first message is not an open message")
	}
	if o.Payload == nil {
		o.Payload = &pb.VerifyPayload{}
	}
	return &matchOpen{header: o.Header, payload: o.Payload, sig: o.Signature, probe: o.Payload.Probe, reference: o.Payload.Reference}, nil
}

func (s verifyStream) chunk() (*pb.Chunk, error) {
	m, err := s.Recv()
	if err != nil {
		return nil, err
	}
	return m.GetChunk(), nil
}

func (s verifyStream) opening() (*openingOpen, error) {
	m, err := s.Recv()
	if err != nil {
		return nil, err
	}
	return openingFrom(m.GetOpening())
}

func (s verifyStream) sendOpen(o *pb.MatchResponseOpen) error {
	return s.Send(&pb.VerifyResponse{Part: &pb.VerifyResponse_Open{Open: o}})
}

func (s verifyStream) sendChunk(c *pb.Chunk) error {
	return s.Send(&pb.VerifyResponse{Part: &pb.VerifyResponse_Chunk{Chunk: c}})
}
