package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/puente-id/puente/home"
	"github.com/puente-id/puente/protocol"
)

func init() {
	register(&command{name: "shards rebalance", summary: "install every shard's partition for the configured shards (after their number changed), audited",
		usage:    "[-home DIR]",
		examples: []string{"puente shards rebalance -home /var/lib/puente"},
		run:      runShardsRebalance})
}

// runShardsRebalance opens the node (which must not be running: serve does the same at start)
// and installs on every configured shard its partition of every gallery.
func runShardsRebalance(ctx context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
	dir := homeFlag(fs)
	if rest, err := parse(fs, args); err != nil {
		return err
	} else if len(rest) > 0 {
		return usagef("shards rebalance takes no arguments, got %q", rest[0])
	}
	cfg, err := loadConfig(*dir)
	if err != nil {
		return err
	}
	n, err := protocol.Open(ctx, cfg, protocol.Options{Logger: cliLogger(st)})
	if errors.Is(err, home.ErrNodeRunning) {
		return fmt.Errorf("%w (a running node installs its shards when it starts: restart it after changing the shards)", err)
	}
	if err != nil {
		return err
	}
	done, err := n.InstallShards(ctx)
	for _, d := range done {
		fmt.Fprintf(st.out, "partner %s (agreement %s, epoch %d): %d entries on %d shards\n",
			d.Partner, d.Agreement, d.Epoch, d.Entries, d.Shards)
	}
	return errors.Join(err, n.Close())
}
