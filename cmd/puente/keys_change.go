package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"

	"github.com/puente-id/puente/keys"
	"github.com/puente-id/puente/keys/policy"
	"github.com/puente-id/puente/protocol"
)

// The key commands that change keys, epochs or the keyring. While the node serves, each goes to
// it through its operator socket (keysViaNode), and the node records and applies it at once;
// otherwise it works on the files itself, under the home's lock (openKeysForWrite). Either way
// the action takes effect in the key store first and is recorded after; one that a crash left
// without its record is recorded, marked recovered, when the node or the next of these commands
// opens the home.

// openKeysForWrite opens the node at dir under its lock (openNodeForWrite) and records the key
// actions its store shows and its audit log does not hold (home.RecoverKeyRecords), saying so.
func openKeysForWrite(ctx context.Context, st *stdio, dir string) (*node, error) {
	n, err := openNodeForWrite(dir)
	if err != nil {
		return nil, err
	}
	done, err := n.RecoverKeyRecords(ctx)
	for _, ev := range done {
		fmt.Fprintf(st.err, "recorded after a crash (marked recovered): %s %s\n", ev.Action, ev.Key)
	}
	if err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

func runKeysRotate(ctx context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
	home := homeFlag(fs)
	overlap := fs.String("overlap", "7d", "how long the old key stays valid (30m, 24h, 7d, ...)")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	ov, err := policy.ParsePeriod(*overlap)
	if err != nil {
		return usagef("-overlap: %v", err)
	}
	id := ""
	if rep, ok, err := keysViaNode(ctx, st, *home, protocol.KeyRequest{Action: "rotate", Overlap: ov.D}); ok {
		if err != nil {
			return err
		}
		id = rep.KeyID
	} else {
		n, err := openKeysForWrite(ctx, st, *home)
		if err != nil {
			return err
		}
		defer n.Close()
		sk := &keys.SigningKeys{Store: n.Store, Node: n.Name, Rand: rand.Reader, Events: n.AuditSink()}
		k, err := sk.Rotate(ctx, ov.D)
		if err != nil {
			return err
		}
		defer k.Zero()
		id = k.ID().String()
	}
	fmt.Fprintf(st.out, "new signing key %s; the previous key stays valid for %s\n", id, ov)
	fmt.Fprintln(st.out, "give partners the new card (puente card) for puente partner update")
	if ov.D == 0 {
		fmt.Fprintln(st.out, "the previous key's seed was destroyed (no overlap)")
	}
	return nil
}

func runKeysDestroyExpired(ctx context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
	home := homeFlag(fs)
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	var done []string
	rep, ok, err := keysViaNode(ctx, st, *home, protocol.KeyRequest{Action: "destroy-expired"})
	if ok {
		if rep != nil {
			done = rep.Destroyed
		}
	} else {
		n, oerr := openKeysForWrite(ctx, st, *home)
		if oerr != nil {
			return oerr
		}
		defer n.Close()
		sk := &keys.SigningKeys{Store: n.Store, Node: n.Name, Events: n.AuditSink()}
		var ids []keys.KeyID
		ids, err = sk.DestroyExpired(ctx)
		for _, id := range ids {
			done = append(done, id.String())
		}
	}
	for _, id := range done {
		fmt.Fprintf(st.out, "destroyed the seed of signing key %s (its public key stays in the keyring)\n", id)
	}
	if err != nil {
		return err
	}
	if len(done) == 0 {
		fmt.Fprintln(st.out, "no signing key has ended its validity with its seed still stored")
	}
	return nil
}

func runKeysRevokeSigning(ctx context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
	home := homeFlag(fs)
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("keys revoke-signing needs one key ID")
	}
	id, err := keys.ParseKeyID(rest[0])
	if err != nil {
		return usagef("%v", err)
	}
	if rep, ok, err := keysViaNode(ctx, st, *home, protocol.KeyRequest{Action: "revoke-signing", KeyID: id.String()}); ok {
		if err != nil {
			return err
		}
		fmt.Fprintf(st.out, "signing key %s revoked\n", id)
		if rep.KeyID != "" {
			fmt.Fprintf(st.out, "it was the node's current key: new signing key %s signs from now on; give partners the new card (puente card)\n", rep.KeyID)
		}
		return nil
	}
	n, err := openKeysForWrite(ctx, st, *home)
	if err != nil {
		return err
	}
	defer n.Close()
	// The revocation is recorded after it takes effect, signed with the node's current key: if
	// that is the key revoked, a new key replaces it first, as a running node does.
	sk := &keys.SigningKeys{Store: n.Store, Node: n.Name, Rand: rand.Reader, Events: n.AuditSink()}
	cur, err := sk.Current(ctx)
	if err != nil {
		return err
	}
	current := cur.ID() == id
	cur.Zero()
	if current {
		k, err := sk.Rotate(ctx, 0)
		if err != nil {
			return err
		}
		defer k.Zero()
		fmt.Fprintf(st.out, "it is the node's current key: new signing key %s signs from now on; give partners the new card (puente card)\n", k.ID())
	}
	if err := sk.Revoke(ctx, id); err != nil {
		return err
	}
	fmt.Fprintf(st.out, "signing key %s revoked\n", id)
	return nil
}

func runKeysEpoch(ctx context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
	home := homeFlag(fs)
	agreement, epoch := epochFlags(fs)
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 || *agreement == "" || *epoch == 0 {
		return usagef("keys epoch needs -agreement, -epoch and one of retire, destroy, revoke")
	}
	switch rest[0] {
	case "retire", "destroy", "revoke":
	default:
		return usagef("unknown epoch action %q (retire, destroy or revoke)", rest[0])
	}
	done := "done"
	if _, ok, err := keysViaNode(ctx, st, *home, protocol.KeyRequest{Action: "epoch-" + rest[0], Agreement: *agreement, Epoch: *epoch}); ok {
		if err != nil {
			return err
		}
		done = "done by the running node, at once"
	} else {
		n, err := openKeysForWrite(ctx, st, *home)
		if err != nil {
			return err
		}
		defer n.Close()
		ag := &keys.Agreements{Store: n.Store, Events: n.AuditSink()}
		switch rest[0] {
		case "retire":
			err = ag.Retire(ctx, *agreement, *epoch)
		case "destroy":
			err = ag.Destroy(ctx, *agreement, *epoch)
		case "revoke":
			err = ag.Revoke(ctx, *agreement, *epoch)
		}
		if err != nil {
			return err
		}
	}
	fmt.Fprintf(st.out, "epoch %d of agreement %s: %s %s\n", *epoch, *agreement, rest[0], done)
	return nil
}

// epochFlags registers -agreement and -epoch.
func epochFlags(fs *flag.FlagSet) (*string, *uint64) {
	return fs.String("agreement", "", "agreement ID, e.g. us-co"), fs.Uint64("epoch", 0, "epoch number (from 1)")
}
