package operator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	pb "github.com/puente-id/puente/proto/puente/operator/v1"
	"github.com/puente-id/puente/protocol"
)

// grace is how long past the operator's deadline a Client waits for the node's answer.
const grace = 10 * time.Second

// Client asks a running node to act, over its operator socket. Its errors are *Error values
// that wrap the same sentinels and carry the same cause chain as the node's error in process.
type Client struct {
	path string
	rpc  pb.OperatorServiceClient
	conn *grpc.ClientConn
}

// Dial connects to the operator socket at path; it fails when no node serves it. Close releases
// the connection.
func Dial(path string) (*Client, error) {
	c, err := net.DialTimeout("unix", path, 2*time.Second)
	if err != nil {
		return nil, err
	}
	c.Close()
	conn, err := grpc.NewClient("passthrough:///puente-operator",
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		}),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessage), grpc.MaxCallSendMsgSize(maxMessage)))
	if err != nil {
		return nil, fmt.Errorf("operator: node at %s: %w", path, err)
	}
	return &Client{path: path, rpc: pb.NewOperatorServiceClient(conn), conn: conn}, nil
}

// Close closes the connection to the node.
func (c *Client) Close() error { return c.conn.Close() }

// call runs one rpc of the node. With a deadline, the node keeps the operator's deadline
// (timeoutKey) and answers when it passes (DeadlineExceeded from the call it stopped, with its
// causes); the client waits a little longer for that answer, and stops at once only if the
// operator cancels.
func call[Req, Resp any](ctx context.Context, c *Client, rpc func(context.Context, *Req, ...grpc.CallOption) (*Resp, error), req *Req) (*Resp, error) {
	if dl, ok := ctx.Deadline(); ok {
		op := ctx
		hctx, cancel := context.WithDeadline(context.WithoutCancel(op), dl.Add(grace))
		defer cancel()
		stop := context.AfterFunc(op, func() {
			if !errors.Is(op.Err(), context.DeadlineExceeded) {
				cancel()
			}
		})
		defer stop()
		ms := max(1, time.Until(dl).Milliseconds())
		ctx = metadata.AppendToOutgoingContext(hctx, timeoutKey, strconv.FormatInt(ms, 10))
	}
	rep, err := rpc(ctx, req)
	if err != nil {
		return nil, fromStatus(c.path, err)
	}
	return rep, nil
}

// Ceremony implements Operator.
func (c *Client) Ceremony(ctx context.Context, partner string, epoch uint64) (*protocol.CeremonyReport, error) {
	rep, err := call(ctx, c, c.rpc.Ceremony, &pb.CeremonyRequest{Partner: partner, Epoch: epoch})
	if err != nil {
		return nil, err
	}
	return fromCeremonyReport(rep.Report), nil
}

// Revoke implements Operator.
func (c *Client) Revoke(ctx context.Context, partner string) (*protocol.CeremonyReport, error) {
	rep, err := call(ctx, c, c.rpc.Revoke, &pb.RevokeRequest{Partner: partner})
	if err != nil {
		return nil, err
	}
	return fromCeremonyReport(rep.Report), nil
}

// Enrol implements Operator.
func (c *Client) Enrol(ctx context.Context, partner string, refs []string, raw [][]float32, o protocol.EnrolOptions) (*protocol.EnrolReport, error) {
	rep, err := call(ctx, c, c.rpc.Enrol, &pb.EnrolRequest{Partner: partner, Refs: refs, Raw: vectors32Of(raw), Resume: o.Resume})
	if err != nil {
		return nil, err
	}
	return fromEnrolResponse(rep), nil
}

// References implements Operator.
func (c *Client) References(ctx context.Context, partner string, refs []string) ([]string, error) {
	rep, err := call(ctx, c, c.rpc.References, &pb.ReferencesRequest{Partner: partner, Refs: refs})
	if err != nil {
		return nil, err
	}
	return rep.Labels, nil
}

// Protect implements Operator.
func (c *Client) Protect(ctx context.Context, partner string, raw [][]float64) ([][]float64, uint64, error) {
	rep, err := call(ctx, c, c.rpc.Protect, &pb.ProtectRequest{Partner: partner, Raw: vectorsOf(raw)})
	if err != nil {
		return nil, 0, err
	}
	return fromVectors(rep.Protected), rep.Epoch, nil
}

// Search implements Operator.
func (c *Client) Search(ctx context.Context, partner string, probe protocol.Probe, purpose string) (*protocol.Result, error) {
	rep, err := call(ctx, c, c.rpc.Search, &pb.SearchRequest{Partner: partner, Probe: probeOf(probe), Purpose: purpose})
	if err != nil {
		return nil, err
	}
	return fromResult(rep.Result), nil
}

// Verify implements Operator.
func (c *Client) Verify(ctx context.Context, partner, reference string, probe protocol.Probe, purpose string) (*protocol.Result, error) {
	rep, err := call(ctx, c, c.rpc.Verify, &pb.VerifyRequest{Partner: partner, Reference: reference, Probe: probeOf(probe), Purpose: purpose})
	if err != nil {
		return nil, err
	}
	return fromResult(rep.Result), nil
}

// Status implements Operator.
func (c *Client) Status(ctx context.Context) (*protocol.Status, error) {
	rep, err := call(ctx, c, c.rpc.Status, &pb.StatusRequest{})
	if err != nil {
		return nil, err
	}
	return fromStatusResponse(rep), nil
}

// Keys implements Operator.
func (c *Client) Keys(ctx context.Context, req protocol.KeyRequest) (*protocol.KeyReport, error) {
	rep, err := call(ctx, c, c.rpc.Keys, keysRequestOf(req))
	if err != nil {
		return nil, err
	}
	return fromKeysResponse(rep), nil
}

// VerifyGallery implements Operator.
func (c *Client) VerifyGallery(ctx context.Context, partner string) (*protocol.GalleryReport, error) {
	rep, err := call(ctx, c, c.rpc.VerifyGallery, &pb.VerifyGalleryRequest{Partner: partner})
	if err != nil {
		return nil, err
	}
	return fromGalleryResponse(rep), nil
}

// PruneAudit implements Operator.
func (c *Client) PruneAudit(ctx context.Context) (*protocol.PruneReport, error) {
	rep, err := call(ctx, c, c.rpc.PruneAudit, &pb.PruneAuditRequest{})
	if err != nil {
		return nil, err
	}
	return fromPruneResponse(rep), nil
}
