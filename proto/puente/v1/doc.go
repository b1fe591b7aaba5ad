// Package puentev1 is the generated Go code of Puente's wire protocol, version 1 (package
// puente.v1 in the .proto files beside it). Two partner agencies' nodes talk over gRPC with
// mutual TLS through three services:
//
//   - CeremonyService: the rounds that set up an agreement's keys for one epoch (see
//     ceremony.proto);
//   - MatchService: Search (1:N) and Verify (1:1), hit/no-hit under homomorphic encryption (see
//     match.proto);
//   - the standard gRPC health service (grpc.health.v1, from google.golang.org/grpc/health).
//
// envelope.proto defines what every RPC shares: the signed request and response headers, the
// canonical encoding (CE) their ML-DSA-65 signatures cover, and the chunked transfer of large HE
// objects. The .proto files are the specification; this package holds no logic. Everything here
// except this file and the tests is produced by `buf generate` in the proto directory and is
// checked by scripts/check-generated.sh.
package puentev1
