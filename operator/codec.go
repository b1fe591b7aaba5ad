package operator

import (
	"fmt"
	"sync"

	"google.golang.org/protobuf/proto"
)

// codec is the server's protobuf codec. A request that does not decode (a string that is not
// UTF-8, a truncated field) is refused like any other bad request, with InvalidArgument and the
// reason, where grpc-go would answer Internal: Unmarshal leaves the message empty and records why,
// and the interceptor refuses it (undecodable) before any operation. A reference whose bad bytes
// were replaced by U+FFFD would name another subject, so nothing is read leniently.
type codec struct {
	bad sync.Map // proto.Message → error, from Unmarshal to the interceptor
}

func (*codec) Name() string { return "proto" }

func (*codec) Marshal(v any) ([]byte, error) {
	m, ok := v.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("operator: cannot encode a %T", v)
	}
	return proto.Marshal(m)
}

func (c *codec) Unmarshal(data []byte, v any) error {
	m, ok := v.(proto.Message)
	if !ok {
		return fmt.Errorf("operator: cannot decode into a %T", v)
	}
	if err := proto.Unmarshal(data, m); err != nil {
		proto.Reset(m)
		c.bad.Store(m, err)
	}
	return nil
}

// undecodable returns why req did not decode, if it did not, and forgets it.
func (c *codec) undecodable(req any) error {
	if err, ok := c.bad.LoadAndDelete(req); ok {
		return fmt.Errorf("the request is not a message of operator.proto: %w", err.(error))
	}
	return nil
}
