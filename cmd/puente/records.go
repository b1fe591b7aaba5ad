package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/puente-id/puente/protocol"
)

// The commands that check and rebuild a node's records besides its audit log: its replay and
// quota state and its galleries.
func init() {
	register(&command{name: "state rebuild", summary: "make state.db anew from what the audit log proves (quota used, replay floor, halts); audited",
		usage: "[-home DIR]", examples: []string{"puente state rebuild -home /var/lib/puente   # with the node stopped"},
		run: runStateRebuild})
	register(&command{name: "gallery verify", summary: "open and check every sealed record of a partner's gallery; name the bad ones",
		usage: "[-home DIR] -partner NAME", examples: []string{"puente gallery verify -partner co-migracion"},
		run: runGalleryVerify})
	register(&command{name: "gallery forget", summary: "record that a partner's gallery file is lost for good and destroy its keys, so the node starts (audited)",
		usage: "[-home DIR] -partner NAME", examples: []string{"puente gallery forget -partner co-migracion   # with the node stopped, after the file was lost"},
		run: runGalleryForget})
}

func runGalleryForget(ctx context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
	home := homeFlag(fs)
	partner := partnerFlag(fs)
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if err := needPartner(*partner); err != nil {
		return err
	}
	cfg, err := loadConfig(*home)
	if err != nil {
		return err
	}
	destroyed, err := protocol.ForgetGallery(ctx, cfg, *partner)
	for _, k := range destroyed {
		fmt.Fprintf(st.out, "destroyed %s (recorded in the audit log)\n", k)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(st.out, "the gallery of %s is forgotten; the next enrolment makes a new one\n", *partner)
	return nil
}

func runStateRebuild(ctx context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
	home := homeFlag(fs)
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*home)
	if err != nil {
		return err
	}
	rep, err := protocol.RebuildState(ctx, cfg, protocol.Options{Logger: cliLogger(st)})
	if err != nil {
		return err
	}
	fmt.Fprintf(st.out, "%s rebuilt from the audit log (recorded in it):\n", rep.File)
	for _, q := range rep.Quota {
		fmt.Fprintf(st.out, "  %d queries of %s within the window of its quota (%s)\n", q.Used, q.Partner, q.Quota)
	}
	for _, h := range rep.Halted {
		if h.Unresolved {
			fmt.Fprintf(st.out, "  queries to %s are halted: query %s was left pending (a crash, or its record failed), and the old state file, "+
				"not read, may have halted them by it; check the query, then `puente partner resume -partner %s`\n", h.Partner, h.RequestID, h.Partner)
			continue
		}
		fmt.Fprintf(st.out, "  queries to %s stay halted: its answer to query %s (%s) did not open\n", h.Partner, h.RequestID, h.At.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(st.out, "requests signed before %s are refused as possible replays (the nonces seen before are lost)\n", rep.Since.UTC().Format(time.RFC3339))
	if rep.Replaced != "" {
		fmt.Fprintf(st.out, "the old file is kept as %s\n", rep.Replaced)
	}
	return nil
}

func runGalleryVerify(ctx context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
	home := homeFlag(fs)
	partner := partnerFlag(fs)
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if err := needPartner(*partner); err != nil {
		return err
	}
	cfg, err := loadConfig(*home)
	if err != nil {
		return err
	}
	if _, err := partnerConfig(*home, *partner); err != nil {
		return err
	}
	var rep *protocol.GalleryReport
	if c := runningNode(*home); c != nil {
		rep, err = c.VerifyGallery(ctx, *partner)
	} else {
		rep, err = protocol.VerifyGalleryFile(ctx, cfg, *partner)
	}
	if err != nil {
		return err
	}
	for _, b := range rep.Bad {
		fmt.Fprintf(st.out, "BAD: %s\n", b)
	}
	total := rep.Subjects + rep.Archived
	if len(rep.Bad) > 0 {
		fmt.Fprintf(st.out, "%s: %d of %d sealed values (%d records of epoch %d, %d archive entries) do not check out\n",
			rep.File, len(rep.Bad), total, rep.Subjects, rep.Epoch, rep.Archived)
		return &findingsError{n: len(rep.Bad)}
	}
	fmt.Fprintf(st.out, "%s: %d records of epoch %d and %d archive entries open and check out\n", rep.File, rep.Subjects, rep.Epoch, rep.Archived)
	return nil
}
