package policy

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Show writes the policy for a reader: what each key is for, who can
// recover it, how long it lives and what happens when it is rotated or
// revoked; the partners' quotas; the audit retention.
func Show(w io.Writer, p *Policy) error {
	b := &strings.Builder{}
	fmt.Fprintf(b, "Key policy of node %s (%s)\n\n", p.Node, p.File)
	fmt.Fprintf(b, "Allowed algorithms: %s\n", strings.Join(p.AllowedAlgorithms, ", "))
	fmt.Fprintf(b, "Audit records are kept for %s, then pruned behind a signed checkpoint.\n", p.Audit.Retention)
	l := p.Limits
	fmt.Fprintf(b, "Refusals of unknown peers are summarised per source every %s; from a source's %d-th refusal in that time on, its connections are closed unanswered.\n",
		l.RefusalInterval, l.RefusalsPerSource)
	fmt.Fprintf(b, "Calls to a partner time out after %s; an idle connection is checked every %s.\n", l.CallDeadline, l.Keepalive)
	fmt.Fprintf(b, "Each partner may start at most %s key ceremonies with this node.\n", l.Ceremonies)

	fmt.Fprintf(b, "\nCustodians\n")
	tw := tabwriter.NewWriter(b, 0, 4, 2, ' ', 0)
	for _, c := range p.Custodians {
		rcpt := c.Recipient
		if rcpt == "" {
			rcpt = "(holds Vault recovery shares)"
		} else if len(rcpt) > 24 {
			rcpt = rcpt[:20] + "..."
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", c.Name, c.Role, rcpt)
	}
	tw.Flush()

	for _, k := range p.Keys {
		fmt.Fprintf(b, "\nKey %q (entries %s)\n", k.Name, k.Match)
		tw := tabwriter.NewWriter(b, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "  purpose\t%s\n", k.Purpose)
		fmt.Fprintf(tw, "  algorithm\t%s\n", k.Algorithm)
		fmt.Fprintf(tw, "  kept in\t%s store\n", k.Store)
		fmt.Fprintf(tw, "  recoverable by\t%s\n", orNone(strings.Join(k.Custodians, ", ")))
		fmt.Fprintf(tw, "  cryptoperiod\t%s%s\n", k.Cryptoperiod, overlapText(&k))
		fmt.Fprintf(tw, "  rotation\t%s\n", k.Rotation)
		fmt.Fprintf(tw, "  revocation\t%s\n", k.Revocation)
		tw.Flush()
	}

	fmt.Fprintf(b, "\nPartners\n")
	tw = tabwriter.NewWriter(b, 0, 4, 2, ' ', 0)
	for _, pt := range p.Partners {
		q := "NONE (queries refused)"
		if pt.Quota != nil {
			q = pt.Quota.String() + " queries"
		}
		v := "NONE (verifications refused)"
		if pt.VerifyLimit != nil {
			v = pt.VerifyLimit.String() + " per reference"
		}
		fmt.Fprintf(tw, "  %s\tagreement %s\tquota %s\tverify limit %s\n", pt.Name, pt.Agreement, q, v)
	}
	tw.Flush()
	_, err := io.WriteString(w, b.String())
	return err
}

func orNone(s string) string {
	if s == "" {
		return "nobody"
	}
	return s
}
