package keys

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// AlgCKKSShare is the algorithm name of HE secret shares in stores and
// policy.
const AlgCKKSShare = "ckks-secret-share"

// ShareName returns the store name of an HE secret share:
// "he/<agreement>/<direction>/sk", direction naming who queries whom
// (e.g. "us-to-co").
func ShareName(agreement, direction string) string {
	return "he/" + agreement + "/" + direction + "/sk"
}

// PutShare stores an HE secret share as an opaque blob under name (which
// must start with "he/"), create-only: a share is never overwritten, since
// reusing a share across protocol runs is unsafe (Lattigo SECURITY.md). The
// share is not parsed; the caller should zero its copy.
func PutShare(ctx context.Context, s Store, name string, share []byte, events EventSink) error {
	if !strings.HasPrefix(name, "he/") {
		return &KeyError{Op: "put", Name: name, Err: fmt.Errorf("%w: HE share names start with he/", ErrInvalidName)}
	}
	if len(share) == 0 {
		return &KeyError{Op: "put", Name: name, Err: fmt.Errorf("empty share")}
	}
	if _, err := s.Put(ctx, name, share, PutOptions{Algorithm: AlgCKKSShare}); err != nil {
		return err
	}
	return emit(ctx, events, Event{Time: time.Now().UTC(), Action: ActShareStored, Key: name})
}

// GetShare loads an HE secret share. The caller owns the Secret and should
// Zero it when done.
func GetShare(ctx context.Context, s Store, name string) (*Secret, error) {
	e, err := s.Get(ctx, name, 0)
	if err != nil {
		return nil, err
	}
	return e.Data, nil
}

// DestroyShare destroys an HE secret share.
func DestroyShare(ctx context.Context, s Store, name string, events EventSink) error {
	if err := s.Destroy(ctx, name); err != nil {
		return err
	}
	return emit(ctx, events, Event{Time: time.Now().UTC(), Action: ActShareDestroyed, Key: name})
}
