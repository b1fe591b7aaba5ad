package protocol

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// Operator is what an agency's operator does with its node: run ceremonies, enrol, search,
// verify, revoke. *Node implements it in process; *AdminClient implements it by asking the
// running `puente serve` over its local socket, so that one process owns the node's files.
type Operator interface {
	Ceremony(ctx context.Context, partner string, epoch uint64) (*CeremonyReport, error)
	Revoke(ctx context.Context, partner string) (*CeremonyReport, error)
	Enrol(ctx context.Context, partner string, refs []string, raw [][]float32, o EnrolOptions) (*EnrolReport, error)
	References(ctx context.Context, partner string, refs []string) ([]string, error)
	Protect(ctx context.Context, partner string, raw [][]float64) ([][]float64, uint64, error)
	Search(ctx context.Context, partner string, probe Probe, purpose string) (*Result, error)
	Verify(ctx context.Context, partner, reference string, probe Probe, purpose string) (*Result, error)
	Status(ctx context.Context) (*Status, error)
	// Keys carries out a key command (KeyRequest) on the node.
	Keys(ctx context.Context, req KeyRequest) (*KeyReport, error)
	// VerifyGallery opens and checks every sealed record of the partner's gallery.
	VerifyGallery(ctx context.Context, partner string) (*GalleryReport, error)
	// PruneAudit drops the audit records older than the key policy's retention.
	PruneAudit(ctx context.Context) (*PruneReport, error)
}

var (
	_ Operator = (*Node)(nil)
	_ Operator = (*AdminClient)(nil)
)

// Status describes a node for its operator.
type Status struct {
	Node     string          `json:"node"`
	Partners []PartnerStatus `json:"partners"`
	// Shards are the node's shards, one entry per shard and agreement it holds (shards.go).
	Shards []ShardStatus `json:"shards,omitempty"`
}

// PartnerStatus describes one agreement.
type PartnerStatus struct {
	Partner   string `json:"partner"`
	Agreement string `json:"agreement"`
	Epoch     uint64 `json:"epoch"` // 0: no active epoch
	ParamSet  string `json:"param_set"`
	Enrolled  int    `json:"enrolled"`
	// GalleryEpoch is the epoch the gallery is protected under; it lags Epoch while the gallery
	// is being re-protected after a new epoch.
	GalleryEpoch uint64 `json:"gallery_epoch"`
	QuotaUsed    int    `json:"quota_used"`
	QuotaLimit   string `json:"quota"`
}

// Status reports the node's agreements.
func (n *Node) Status(ctx context.Context) (*Status, error) {
	st := &Status{Node: n.name}
	for _, pc := range n.cfg.Partners {
		p := n.partners[pc.Name]
		ps := PartnerStatus{Partner: p.name, Agreement: pc.Agreement, ParamSet: p.ps.Name()}
		if k, err := p.current(); err == nil {
			ps.Epoch = k.epoch
		}
		if g := p.gallery(); g != nil {
			ps.Enrolled, _ = g.store.Count()
			ps.GalleryEpoch = g.store.Params().Epoch
		}
		if p.quota != nil {
			ps.QuotaLimit = p.quota.String()
			ps.QuotaUsed, _ = n.state.used(p.name, p.quota.Window, n.now())
		}
		st.Partners = append(st.Partners, ps)
	}
	st.Shards = n.shardStatus(ctx)
	return st, nil
}

// The admin protocol: one POST per operation to http://puente/v1/<op> over the socket, a JSON
// request and a JSON reply; a failure is {"error": "..."} with status 422.
type adminRequest struct {
	// TimeoutMS is the operator's deadline for the operation, in milliseconds (0: none but the
	// node's own).
	TimeoutMS int64         `json:"timeout_ms,omitempty"`
	Partner   string        `json:"partner,omitempty"`
	Epoch     uint64        `json:"epoch,omitempty"`
	Refs      []string      `json:"refs,omitempty"`
	Raw32     [][]float32   `json:"raw32,omitempty"`
	Raw       [][]float64   `json:"raw,omitempty"`
	Probe     *Probe        `json:"probe,omitempty"`
	Reference string        `json:"reference,omitempty"`
	Purpose   string        `json:"purpose,omitempty"`
	Enrol     *EnrolOptions `json:"enrol,omitempty"`
	Key       *KeyRequest   `json:"key,omitempty"`
}

type adminReply struct {
	Error     string          `json:"error,omitempty"`
	Ceremony  *CeremonyReport `json:"ceremony,omitempty"`
	Enrol     *EnrolReport    `json:"enrol,omitempty"`
	Labels    []string        `json:"labels,omitempty"`
	Protected [][]float64     `json:"protected,omitempty"`
	Epoch     uint64          `json:"epoch,omitempty"`
	Result    *Result         `json:"result,omitempty"`
	Status    *Status         `json:"status,omitempty"`
	Key       *KeyReport      `json:"key,omitempty"`
	Gallery   *GalleryReport  `json:"gallery,omitempty"`
	Prune     *PruneReport    `json:"prune,omitempty"`
}

// adminGrace is how long past the operator's deadline a client waits for the node's answer.
const adminGrace = 10 * time.Second

// maxAdminRequest bounds an admin request (an enrolment of a few hundred thousand vectors).
const maxAdminRequest = 512 << 20

// ServeAdmin serves the operator socket at path (mode 0600 in a 0700 directory: only this
// node's user may connect) until ctx ends.
func (n *Node) ServeAdmin(ctx context.Context, path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	os.Remove(path) // a socket left by a node that died; the home's lock (run/node.lock) proves none runs
	lis, err := net.Listen("unix", path)
	if err != nil {
		return fmt.Errorf("protocol: admin socket %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		lis.Close()
		return err
	}
	srv := &http.Server{Handler: adminHandler(n), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// adminHandler serves the admin protocol for op: a request that does not parse
// (parseAdminRequest) gets status 400 and reaches no operation; an operation's failure gets 422,
// and a panic 500 (the node goes on serving).
func adminHandler(op Operator) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var rep adminReply
		name, req, err := parseAdminRequest(r.Method, r.URL.Path, io.LimitReader(r.Body, maxAdminRequest))
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(adminReply{Error: err.Error()})
			return
		}
		defer func() {
			if p := recover(); p != nil {
				w.WriteHeader(http.StatusInternalServerError)
				json.NewEncoder(w).Encode(adminReply{Error: fmt.Sprintf("protocol: admin: %s failed inside the node: %v", name, p)})
			}
		}()
		ctx := r.Context()
		if req.TimeoutMS > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, time.Duration(req.TimeoutMS)*time.Millisecond)
			defer cancel()
		}
		rep, err = runAdmin(ctx, op, name, req)
		if err != nil {
			w.WriteHeader(http.StatusUnprocessableEntity)
			rep = adminReply{Error: err.Error()}
		}
		json.NewEncoder(w).Encode(rep)
	}
}

// runAdmin runs one admin operation.
func runAdmin(ctx context.Context, op Operator, name string, req *adminRequest) (rep adminReply, err error) {
	switch name {
	case "ceremony":
		rep.Ceremony, err = op.Ceremony(ctx, req.Partner, req.Epoch)
	case "revoke":
		rep.Ceremony, err = op.Revoke(ctx, req.Partner)
	case "enrol":
		var o EnrolOptions
		if req.Enrol != nil {
			o = *req.Enrol
		}
		rep.Enrol, err = op.Enrol(ctx, req.Partner, req.Refs, req.Raw32, o)
	case "references":
		rep.Labels, err = op.References(ctx, req.Partner, req.Refs)
	case "protect":
		rep.Protected, rep.Epoch, err = op.Protect(ctx, req.Partner, req.Raw)
	case "search":
		rep.Result, err = op.Search(ctx, req.Partner, *req.Probe, req.Purpose)
	case "verify":
		rep.Result, err = op.Verify(ctx, req.Partner, req.Reference, *req.Probe, req.Purpose)
	case "status":
		rep.Status, err = op.Status(ctx)
	case "keys":
		rep.Key, err = op.Keys(ctx, *req.Key)
	case "gallery-verify":
		rep.Gallery, err = op.VerifyGallery(ctx, req.Partner)
	case "audit-prune":
		rep.Prune, err = op.PruneAudit(ctx)
	}
	return rep, err
}

// AdminClient asks a running node to act, over its operator socket.
type AdminClient struct {
	path string
	hc   *http.Client
}

// DialAdmin connects to the operator socket at path; it fails when no node serves it.
func DialAdmin(path string) (*AdminClient, error) {
	c, err := net.DialTimeout("unix", path, 2*time.Second)
	if err != nil {
		return nil, err
	}
	c.Close()
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}}
	return &AdminClient{path: path, hc: &http.Client{Transport: tr}}, nil
}

func (c *AdminClient) call(ctx context.Context, op string, req adminRequest) (*adminReply, error) {
	if dl, ok := ctx.Deadline(); ok {
		// The node keeps the operator's deadline and answers when it passes (DeadlineExceeded
		// from the partner call it stopped); the client waits a little longer for that answer,
		// and stops at once only if the operator cancels.
		req.TimeoutMS = max(1, time.Until(dl).Milliseconds())
		op := ctx
		hctx, cancel := context.WithDeadline(context.WithoutCancel(op), dl.Add(adminGrace))
		defer cancel()
		stop := context.AfterFunc(op, func() {
			if !errors.Is(op.Err(), context.DeadlineExceeded) {
				cancel()
			}
		})
		defer stop()
		ctx = hctx
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://puente/v1/"+op, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	resp, err := c.hc.Do(hr)
	if err != nil {
		return nil, fmt.Errorf("protocol: node at %s: %w", c.path, err)
	}
	defer resp.Body.Close()
	var rep adminReply
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxAdminRequest)).Decode(&rep); err != nil {
		return nil, fmt.Errorf("protocol: node at %s: bad reply: %w", c.path, err)
	}
	if rep.Error != "" {
		return nil, errors.New(rep.Error)
	}
	return &rep, nil
}

// Ceremony implements Operator.
func (c *AdminClient) Ceremony(ctx context.Context, partner string, epoch uint64) (*CeremonyReport, error) {
	rep, err := c.call(ctx, "ceremony", adminRequest{Partner: partner, Epoch: epoch})
	if err != nil {
		return nil, err
	}
	return rep.Ceremony, nil
}

// Revoke implements Operator.
func (c *AdminClient) Revoke(ctx context.Context, partner string) (*CeremonyReport, error) {
	rep, err := c.call(ctx, "revoke", adminRequest{Partner: partner})
	if err != nil {
		return nil, err
	}
	return rep.Ceremony, nil
}

// Enrol implements Operator.
func (c *AdminClient) Enrol(ctx context.Context, partner string, refs []string, raw [][]float32, o EnrolOptions) (*EnrolReport, error) {
	rep, err := c.call(ctx, "enrol", adminRequest{Partner: partner, Refs: refs, Raw32: raw, Enrol: &o})
	if err != nil {
		return nil, err
	}
	return rep.Enrol, nil
}

// References implements Operator.
func (c *AdminClient) References(ctx context.Context, partner string, refs []string) ([]string, error) {
	rep, err := c.call(ctx, "references", adminRequest{Partner: partner, Refs: refs})
	if err != nil {
		return nil, err
	}
	return rep.Labels, nil
}

// Protect implements Operator.
func (c *AdminClient) Protect(ctx context.Context, partner string, raw [][]float64) ([][]float64, uint64, error) {
	rep, err := c.call(ctx, "protect", adminRequest{Partner: partner, Raw: raw})
	if err != nil {
		return nil, 0, err
	}
	return rep.Protected, rep.Epoch, nil
}

// Search implements Operator.
func (c *AdminClient) Search(ctx context.Context, partner string, probe Probe, purpose string) (*Result, error) {
	rep, err := c.call(ctx, "search", adminRequest{Partner: partner, Probe: &probe, Purpose: purpose})
	if err != nil {
		return nil, err
	}
	return rep.Result, nil
}

// Verify implements Operator.
func (c *AdminClient) Verify(ctx context.Context, partner, reference string, probe Probe, purpose string) (*Result, error) {
	rep, err := c.call(ctx, "verify", adminRequest{Partner: partner, Reference: reference, Probe: &probe, Purpose: purpose})
	if err != nil {
		return nil, err
	}
	return rep.Result, nil
}

// Status implements Operator.
func (c *AdminClient) Status(ctx context.Context) (*Status, error) {
	rep, err := c.call(ctx, "status", adminRequest{})
	if err != nil {
		return nil, err
	}
	return rep.Status, nil
}

// Keys implements Operator.
func (c *AdminClient) Keys(ctx context.Context, req KeyRequest) (*KeyReport, error) {
	rep, err := c.call(ctx, "keys", adminRequest{Key: &req})
	if err != nil {
		return nil, err
	}
	return rep.Key, nil
}

// VerifyGallery implements Operator.
func (c *AdminClient) VerifyGallery(ctx context.Context, partner string) (*GalleryReport, error) {
	rep, err := c.call(ctx, "gallery-verify", adminRequest{Partner: partner})
	if err != nil {
		return nil, err
	}
	return rep.Gallery, nil
}

// PruneAudit implements Operator.
func (c *AdminClient) PruneAudit(ctx context.Context) (*PruneReport, error) {
	rep, err := c.call(ctx, "audit-prune", adminRequest{})
	if err != nil {
		return nil, err
	}
	return rep.Prune, nil
}
