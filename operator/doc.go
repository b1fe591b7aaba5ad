// Package operator is the operator API of a Puente node: what an agency's operator asks of its own
// running node (`puente serve`) over the node's unix socket, and the one way in for the operator's
// commands whether the node runs or not.
//
// It owns:
//   - [Operator], the operations (ceremony, revoke, enrol, references, protect, search, verify,
//     status, key commands, gallery verification, audit pruning), which *protocol.Node implements
//     in process and [Client] implements over the socket;
//   - the service's schema, proto/puente/operator/v1/operator.proto (package operatorv1, generated
//     code checked in), and the server that adapts an Operator to it ([NewServer], [Serve]) on the
//     socket [Listen] makes (mode 0600 in a 0700 directory);
//   - the checks of the requests, which refuse a request that lacks what its operation needs
//     (InvalidArgument) before the operation runs, without echoing a feature value;
//   - the mapping of errors to statuses and back.
//
// It does not own the operations themselves, their report types or the node's sentinels: those are
// package protocol's (the node's runtime), whose wire package maps them to the partner API's status
// codes.
//
// # Errors
//
// A failure is a gRPC status with the partner API's codes (protocol.Error's code, or the code of
// the sentinel the error wraps), the node's whole error message, and a Failure detail that carries
// the messages of the cause chain ([Causes]) and every protocol sentinel the error wraps. [Client]
// rebuilds an [*Error] from it: errors.Is(err, protocol.ErrInvalid) holds over the socket exactly
// when it holds in process, and Causes returns the same chain, which `puente -v` prints. Unlike a
// partner, the operator sees the internal causes: the socket is the node's user's alone.
//
// # What it does not guarantee
//
//   - Access control beyond the socket's file mode: whoever can connect is the operator.
//   - Error types: over the socket an error is an *Error, not the protocol.Error or
//     protocol.RemoteError it was in process (errors.As finds neither); its code, message,
//     sentinels and cause messages are kept.
package operator
