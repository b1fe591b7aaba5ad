package protocol

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/puente-id/puente/gallery"
	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/home"
	"github.com/puente-id/puente/keys"
)

// galleryLink is a partner's gallery (the subjects this node lets that partner search, protected
// with the agreement's transform) and the values derived from it: the packed form the he
// package scores and the Verify labels.
type galleryLink struct {
	store    *gallery.Store
	labelKey []byte
	packed   *gallery.Derived[packedGallery]
	labels   *gallery.Derived[map[string]string] // label -> subject reference
}

// packedGallery is a gallery packed for the he package, with the epoch its templates are
// protected under.
type packedGallery struct {
	g     *he.Gallery
	epoch uint64
}

// Store names of a gallery's keys (their algorithm is home.AlgAESGCM).
func galleryKeyName(agreement, which string) string { return "gallery/" + agreement + "/" + which }

// openGallery opens the partner's gallery file, or creates it (and its keys) when create is set
// and it does not exist. It returns nil, nil when there is no gallery and create is not set.
func (n *Node) openGallery(ctx context.Context, p *partner, create bool) (*galleryLink, error) {
	path := n.galleryPath(p)
	_, statErr := os.Stat(path)
	exists := statErr == nil
	if !exists {
		// A gallery is made with its keys: keys without the file mean the file was lost.
		if _, err := n.store.Stat(ctx, galleryKeyName(p.cfg.Agreement, "data-key")); err == nil {
			return nil, fmt.Errorf("protocol: the gallery %s of partner %s is missing, but its keys are in the key store: "+
				"subjects were enrolled and the file was lost; restore it from a backup (the node does not make it anew, empty), "+
				"or, if it is lost for good, record that and go on with `puente gallery forget -partner %s -home %s` (then enrol again)", path, p.name, p.name, n.cfg.Dir)
		} else if !errors.Is(err, keys.ErrNotFound) {
			return nil, err
		}
	}
	if !exists && !create {
		return nil, nil
	}
	dataKey, labelKey, err := n.galleryKey(ctx, p, "data-key", 2*gallery.KeySize, create && !exists)
	if err != nil {
		return nil, err
	}
	defer dataKey.Zero()
	archKey, _, err := n.galleryKey(ctx, p, "archive-key", gallery.KeySize, create && !exists)
	if err != nil {
		return nil, err
	}
	defer archKey.Zero()
	opts := &gallery.Options{ArchiveKey: archKey, Rand: n.rand, Now: n.now}
	var st *gallery.Store
	if exists {
		if st, err = gallery.Open(path, dataKey, opts); err == nil {
			if err = st.CheckStructure(); err != nil {
				st.Close()
				return nil, fmt.Errorf("protocol: partner %s: %w (check every record with puente gallery verify; restore the file from a backup)", p.name, err)
			}
		}
	} else {
		k, kerr := p.current()
		if kerr != nil {
			return nil, kerr
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, err
		}
		st, err = gallery.Create(path, gallery.Params{Scheme: k.scheme, Dim: k.transform.OutputDim(),
			RawDim: k.transform.InputDim(), Epoch: k.epoch}, dataKey, opts)
	}
	if err != nil {
		return nil, err
	}
	g := &galleryLink{store: st, labelKey: labelKey}
	g.packed = gallery.NewDerived(st, func(s *gallery.Snapshot) (packedGallery, error) {
		rows := make([][]float64, s.Count())
		for i := range rows {
			rows[i] = s.Row(i)
		}
		hg, err := he.Pack(p.ps, s.Dim, rows, he.PackOptions{MemoryBudget: n.cfg.GalleryMemoryBudget})
		return packedGallery{g: hg, epoch: s.Epoch}, err
	})
	g.labels = gallery.NewDerived(st, func(s *gallery.Snapshot) (map[string]string, error) {
		m := make(map[string]string, s.Count())
		for _, ref := range s.Refs {
			m[g.label(ref)] = ref
		}
		return m, nil
	})
	return g, nil
}

// galleryPath is the partner's gallery file.
func (n *Node) galleryPath(p *partner) string {
	return filepath.Join(n.cfg.Path(n.cfg.GalleryDir), p.cfg.Agreement+".db")
}

// galleryKey loads (or, with create, first makes) a gallery key from the key store. A data-key
// entry holds the data key and the key of the Verify labels.
func (n *Node) galleryKey(ctx context.Context, p *partner, which string, size int, create bool) (*gallery.Key, []byte, error) {
	name := galleryKeyName(p.cfg.Agreement, which)
	if create {
		b := make([]byte, size)
		if _, err := n.rand.Read(b); err != nil {
			return nil, nil, err
		}
		_, err := n.store.Put(ctx, name, b, keys.PutOptions{Algorithm: home.AlgAESGCM})
		clear(b)
		if err != nil && !errors.Is(err, keys.ErrCASConflict) {
			return nil, nil, err
		}
	}
	e, err := n.store.Get(ctx, name, 0)
	if err != nil {
		return nil, nil, err
	}
	defer e.Zero()
	b := e.Data.Bytes()
	if len(b) != size {
		return nil, nil, fmt.Errorf("protocol: gallery key %s is %d bytes, want %d", name, len(b), size)
	}
	k, err := gallery.NewKey(b[:gallery.KeySize])
	if err != nil {
		return nil, nil, err
	}
	return k, append([]byte(nil), b[gallery.KeySize:]...), nil
}

// label is the Verify reference this node gives a partner for one enrolled subject: a keyed
// hash of the subject reference, so it names the subject to nobody without the label key.
func (g *galleryLink) label(ref string) string {
	m := hmac.New(sha256.New, g.labelKey)
	m.Write([]byte("puente/v1 verify reference\x00"))
	m.Write([]byte(ref))
	return "v1-" + hex.EncodeToString(m.Sum(nil)[:16])
}

// protector adapts an epoch's transform to the gallery's Protector.
type protector struct{ k *epochKeys }

var _ gallery.Protector = protector{}

func (p protector) Epoch() uint64  { return p.k.epoch }
func (p protector) Scheme() string { return p.k.scheme }
func (p protector) Dim() int       { return p.k.transform.OutputDim() }

func (p protector) Protect(raw []float32) ([]float64, error) {
	x := make([]float64, len(raw))
	for i, v := range raw {
		x[i] = float64(v)
	}
	out := make([]float64, p.k.transform.OutputDim())
	err := p.k.transform.Apply(out, x)
	clear(x)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// EnrolReport says what an enrolment did.
type EnrolReport struct {
	Enrolled int    // subjects added by this call
	Skipped  int    // subjects found enrolled already with the same features (EnrolOptions.Resume)
	Total    int    // subjects in the gallery now
	Epoch    uint64 // the epoch their templates are protected under
}

// EnrolOptions qualify Enrol.
type EnrolOptions struct {
	// Resume skips the subjects already enrolled with exactly the same features, so that an
	// enrolment an interruption stopped part-way can be run again from its start. A subject
	// enrolled with other features still fails the batch.
	Resume bool `json:"resume,omitempty"`
}

// Enrol protects and enrols subjects in the gallery the partner searches, in one transaction
// (all or none). refs are this agency's subject references (they never leave the node); each
// must pass gallery.CheckRef.
func (n *Node) Enrol(ctx context.Context, partnerName string, refs []string, raw [][]float32, o EnrolOptions) (*EnrolReport, error) {
	p, done, err := n.begin(partnerName)
	if err != nil {
		return nil, err
	}
	defer done()
	if len(refs) != len(raw) {
		return nil, fmt.Errorf("protocol: enrol: %d references for %d feature vectors", len(refs), len(raw))
	}
	if err := checkRefs("enrol", refs); err != nil {
		return nil, err
	}
	k, err := p.current()
	if err != nil {
		return nil, err
	}
	unlock, err := p.lockGallery()
	if err != nil {
		return nil, err
	}
	defer unlock()
	g, err := n.galleryFor(ctx, p)
	if err != nil {
		return nil, err
	}
	batch := make([]gallery.Enrolment, len(refs))
	for i := range refs {
		batch[i] = gallery.Enrolment{Ref: refs[i], Raw: raw[i]}
	}
	if o.Resume {
		_, err = g.store.EnrolResume(protector{k}, batch)
	} else {
		err = g.store.Enrol(protector{k}, batch)
	}
	if err != nil {
		return nil, err
	}
	crashPoint("enrolled-batch")
	c, err := n.recordGalleryChange(ctx, p, g)
	if err != nil {
		return nil, err
	}
	return &EnrolReport{Enrolled: c.Enrolled, Skipped: c.Skipped, Total: c.Total, Epoch: c.Epoch}, nil
}

// RemoveReport says what a removal did.
type RemoveReport struct {
	Removed int    // subjects removed by this call
	Total   int    // subjects in the gallery now
	Epoch   uint64 // the epoch of the gallery's templates
}

// RemoveSubjects removes subjects from the gallery the partner searches, in one transaction (all
// or none: a reference not enrolled, or repeated, removes nothing and names its index), and
// records the removal in the audit log in counts.
func (n *Node) RemoveSubjects(ctx context.Context, partnerName string, refs []string) (*RemoveReport, error) {
	p, done, err := n.begin(partnerName)
	if err != nil {
		return nil, err
	}
	defer done()
	if len(refs) == 0 {
		return nil, fmt.Errorf("%w: remove: no subject references", ErrInvalid)
	}
	if err := checkRefs("remove", refs); err != nil {
		return nil, err
	}
	unlock, err := p.lockGallery()
	if err != nil {
		return nil, err
	}
	defer unlock()
	g := p.gallery()
	if g == nil {
		return nil, fmt.Errorf("%w: partner %s: nothing enrolled yet", ErrNotFound, p.name)
	}
	if err := g.store.Remove(refs...); err != nil {
		return nil, err
	}
	crashPoint("removed-subjects")
	c, err := n.recordGalleryChange(ctx, p, g)
	if err != nil {
		return nil, err
	}
	return &RemoveReport{Removed: c.Removed, Total: c.Total, Epoch: c.Epoch}, nil
}

// checkRefs checks subject references (gallery.CheckRef), naming a bad one by its index.
func checkRefs(op string, refs []string) error {
	for i, r := range refs {
		if err := gallery.CheckRef(r); err != nil {
			return fmt.Errorf("protocol: %s: reference %d: %w", op, i, err)
		}
	}
	return nil
}

// galleryFor returns the partner's gallery, creating it on first use.
func (n *Node) galleryFor(ctx context.Context, p *partner) (*galleryLink, error) {
	if g := p.gallery(); g != nil {
		return g, nil
	}
	p.createMu.Lock()
	defer p.createMu.Unlock()
	if g := p.gallery(); g != nil {
		return g, nil
	}
	g, err := n.openGallery(ctx, p, true)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.gal = g
	p.mu.Unlock()
	return g, nil
}

// References returns the Verify reference (label) of each enrolled subject reference, to be
// given to the partner; a subject not enrolled is an error naming it.
func (n *Node) References(ctx context.Context, partnerName string, refs []string) ([]string, error) {
	p, err := n.partnerByName(partnerName)
	if err != nil {
		return nil, err
	}
	g := p.gallery()
	if g == nil {
		return nil, fmt.Errorf("protocol: partner %s: nothing enrolled yet", p.name)
	}
	out := make([]string, len(refs))
	for i, r := range refs {
		if err := gallery.CheckRef(r); err != nil {
			return nil, fmt.Errorf("protocol: reference %d: %w", i, err)
		}
		if _, err := g.store.Get(r); err != nil {
			return nil, fmt.Errorf("protocol: reference %d: %w", i, err)
		}
		out[i] = g.label(r)
	}
	return out, nil
}

// Protect applies the agreement's current transform to raw feature vectors: the protected
// templates this node's queries would carry (for researchers; they are as sensitive as the
// features).
func (n *Node) Protect(ctx context.Context, partnerName string, raw [][]float64) ([][]float64, uint64, error) {
	p, err := n.partnerByName(partnerName)
	if err != nil {
		return nil, 0, err
	}
	k, err := p.current()
	if err != nil {
		return nil, 0, err
	}
	out := make([][]float64, len(raw))
	for i, x := range raw {
		out[i] = make([]float64, k.transform.OutputDim())
		if err := k.transform.Apply(out[i], x); err != nil {
			return nil, 0, fmt.Errorf("protocol: vector %d: %w", i, err)
		}
	}
	return out, k.epoch, nil
}
