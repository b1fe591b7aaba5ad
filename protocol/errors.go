package protocol

import "github.com/puente-id/puente/protocol/wire"

// Errors of the node. A refusal by either node wraps one of them, so callers test with
// errors.Is; on the client side they are recovered from the gRPC status code, and over the
// operator socket from the status the node answers with. They are the wire package's: the
// status mapping is part of the wire format (docs/protocol.md).
var (
	ErrUnauthenticated = wire.ErrUnauthenticated
	ErrReplay          = wire.ErrReplay
	ErrPermission      = wire.ErrPermission
	ErrInvalid         = wire.ErrInvalid
	ErrQuota           = wire.ErrQuota
	ErrPrecondition    = wire.ErrPrecondition
	ErrNotFound        = wire.ErrNotFound
	ErrDeadline        = wire.ErrDeadline
	ErrInternal        = wire.ErrInternal
	ErrDeviated        = wire.ErrDeviated
)

type (
	// Error is a refusal or failure at the gRPC edge (wire.Error).
	Error = wire.Error
	// RemoteError is a refusal received from the partner (wire.RemoteError).
	RemoteError = wire.RemoteError
	// Signer signs with the node's current ML-DSA-65 key (wire.Signer).
	Signer = wire.Signer
	// Verifier checks a partner's signatures (wire.Verifier).
	Verifier = wire.Verifier
)
