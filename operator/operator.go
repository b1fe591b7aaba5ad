package operator

import (
	"context"

	"github.com/puente-id/puente/protocol"
)

// Operator is what an agency's operator does with its node: run ceremonies, enrol, search,
// verify, revoke. *protocol.Node implements it in process; *Client implements it by asking the
// running `puente serve` over its operator socket, so that one process owns the node's files.
//
// Error contract: an operation's error wraps the protocol package's sentinel of its status code
// (protocol.ErrInvalid, ...), and its chain of causes is the same in process and over the
// socket (Causes): a command behaves the same with `puente serve` running or not.
type Operator interface {
	Ceremony(ctx context.Context, partner string, epoch uint64) (*protocol.CeremonyReport, error)
	Revoke(ctx context.Context, partner string) (*protocol.CeremonyReport, error)
	Enrol(ctx context.Context, partner string, refs []string, raw [][]float32, o protocol.EnrolOptions) (*protocol.EnrolReport, error)
	References(ctx context.Context, partner string, refs []string) ([]string, error)
	Protect(ctx context.Context, partner string, raw [][]float64) ([][]float64, uint64, error)
	Search(ctx context.Context, partner string, probe protocol.Probe, purpose string) (*protocol.Result, error)
	Verify(ctx context.Context, partner, reference string, probe protocol.Probe, purpose string) (*protocol.Result, error)
	Status(ctx context.Context) (*protocol.Status, error)
	// Keys carries out a key command (protocol.KeyRequest) on the node.
	Keys(ctx context.Context, req protocol.KeyRequest) (*protocol.KeyReport, error)
	// VerifyGallery opens and checks every sealed record of the partner's gallery.
	VerifyGallery(ctx context.Context, partner string) (*protocol.GalleryReport, error)
	// PruneAudit drops the audit records older than the key policy's retention.
	PruneAudit(ctx context.Context) (*protocol.PruneReport, error)
}

var (
	_ Operator = (*protocol.Node)(nil)
	_ Operator = (*Client)(nil)
)
