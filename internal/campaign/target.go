package campaign

import (
	"context"
	"math"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/autopulse/autopulse/internal/page"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/db"
)

// Target statuses. pending, dialing, in_call and retry are open: the
// target may still be called or is being called.
const (
	TargetPending   = "pending"
	TargetDialing   = "dialing"
	TargetInCall    = "in_call"
	TargetRetry     = "retry"
	TargetCompleted = "completed"
	TargetFailed    = "failed"
	TargetSkipped   = "skipped"
	TargetCancelled = "cancelled"
)

// Skip reasons a launch records (campaign_targets.skip_reason); the
// dispatcher and the DNC list add their own (dnc, campaign_cancelled).
const (
	SkipNoPhone           = "no_phone"
	SkipDNC               = "dnc"
	SkipDuplicatePhone    = "duplicate_phone"
	SkipCampaignCancelled = "campaign_cancelled"
)

// Target is one customer of a launched campaign.
type Target struct {
	ID              uuid.UUID     `json:"id"`
	CustomerID      uuid.UUID     `json:"customer_id"`
	CustomerName    string        `json:"customer_name"`
	ServiceRecordID *uuid.UUID    `json:"service_record_id" doc:"The customer's latest service record matching the audience"`
	Phone           string        `json:"phone" doc:"E.164; empty when the customer has none"`
	Status          string        `json:"status" enum:"pending,dialing,in_call,retry,completed,failed,skipped,cancelled"`
	Attempts        int           `json:"attempts"`
	NextAttemptAt   *time.Time    `json:"next_attempt_at" doc:"When the dispatcher considers the target next"`
	LastAttemptAt   *time.Time    `json:"last_attempt_at"`
	LastDecision    *LastDecision `json:"last_decision" doc:"The dispatcher's (or the launch's) last verdict on the target; null before the first"`
	SkipReason      *string       `json:"skip_reason" doc:"Why the target is skipped or cancelled: no_phone, dnc, duplicate_phone, campaign_cancelled"`
	CreatedAt       time.Time     `json:"created_at"`
	UpdatedAt       time.Time     `json:"updated_at"`
}

// LastDecision is a verdict on a target with the rule that decided it: the
// answer to "why was (or wasn't) this customer called?".
type LastDecision struct {
	Verdict string    `json:"verdict" enum:"allow,hold,block"`
	Rule    string    `json:"rule" example:"window.federal"`
	Reason  string    `json:"reason,omitempty" example:"21:10 in America/New_York is outside 08:00–21:00" doc:"The rule's explanation, when the dispatcher gave one"`
	At      time.Time `json:"at"`
}

// Targets returns a campaign's targets, newest first, optionally of one
// status.
func (s *Service) Targets(ctx context.Context, org, campaignID uuid.UUID, status string, pr page.Request) ([]Target, string, error) {
	var rows []db.TargetListByCampaignRow
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		if _, err := tx.CampaignGet(ctx, org, campaignID); err != nil {
			return err
		}
		var err error
		rows, err = tx.TargetListByCampaign(ctx, db.TargetListByCampaignParams{
			OrganizationID: org, CampaignID: campaignID, Status: optional(status), After: pr.After, Lim: pr.Fetch(),
		})
		return err
	})
	if err != nil {
		return nil, "", err
	}
	rows, next := page.Result(pr, rows, func(r db.TargetListByCampaignRow) uuid.UUID { return r.ID })
	out := make([]Target, len(rows))
	for i, r := range rows {
		out[i] = Target{
			ID: r.ID, CustomerID: r.CustomerID, ServiceRecordID: r.ServiceRecordID, Phone: r.Phone, Status: r.Status,
			CustomerName: strings.TrimSpace(r.CustomerFirstName + " " + r.CustomerLastName),
			Attempts:     int(r.Attempts), NextAttemptAt: r.NextAttemptAt, LastAttemptAt: r.LastAttemptAt,
			SkipReason: r.SkipReason, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		}
		if r.LastDecision != nil && r.LastDecisionAt != nil {
			d := LastDecision{Verdict: *r.LastDecision, At: *r.LastDecisionAt}
			if r.LastDecisionRule != nil {
				d.Rule = *r.LastDecisionRule
			}
			if r.LastDecisionReason != nil {
				d.Reason = *r.LastDecisionReason
			}
			out[i].LastDecision = &d
		}
	}
	return out, next, nil
}

// TargetCounts counts a campaign's targets by status.
type TargetCounts struct {
	Total     int64 `json:"total"`
	Pending   int64 `json:"pending"`
	Dialing   int64 `json:"dialing"`
	InCall    int64 `json:"in_call"`
	Retry     int64 `json:"retry"`
	Completed int64 `json:"completed"`
	Failed    int64 `json:"failed"`
	Skipped   int64 `json:"skipped"`
	Cancelled int64 `json:"cancelled"`
}

func (c *TargetCounts) add(status string, n int64) {
	c.Total += n
	switch status {
	case TargetPending:
		c.Pending += n
	case TargetDialing:
		c.Dialing += n
	case TargetInCall:
		c.InCall += n
	case TargetRetry:
		c.Retry += n
	case TargetCompleted:
		c.Completed += n
	case TargetFailed:
		c.Failed += n
	case TargetSkipped:
		c.Skipped += n
	case TargetCancelled:
		c.Cancelled += n
	}
}

// Money is an amount in minor units of a currency.
type Money struct {
	Amount   int64  `json:"amount" doc:"Minor units (cents)"`
	Currency string `json:"currency" example:"USD"`
}

// Stats sums up a campaign: its targets, and what its calls came to.
type Stats struct {
	Targets TargetCounts `json:"targets"`
	// SkippedByReason counts skipped and cancelled targets by reason.
	SkippedByReason map[string]int64 `json:"skipped_by_reason" doc:"Skipped and cancelled targets by reason"`
	Calls           int64            `json:"calls" doc:"Calls placed"`
	Connects        int64            `json:"connects" doc:"Calls answered, by a person or a voicemail box"`
	Completions     int64            `json:"completions" doc:"Calls in which the agent spoke with a person"`
	Bookings        int64            `json:"bookings" doc:"Bookings made from the campaign's calls"`
	OptOuts         int64            `json:"opt_outs" doc:"Numbers put on the do-not-call list by the campaign's calls"`
	NPSResponses    int64            `json:"nps_responses" doc:"Calls with a 0–10 score"`
	AverageNPS      *float64         `json:"average_nps" doc:"Mean score, 0–10; null without responses"`
	NPS             *float64         `json:"nps" doc:"Net promoter score: % promoters (9–10) − % detractors (0–6), −100 to 100; null without responses"`
	DurationSec     int64            `json:"duration_sec" doc:"Talk time of all calls"`
	Cost            Money            `json:"cost"`
}

// Stats returns a campaign's statistics, from two aggregate queries.
func (s *Service) Stats(ctx context.Context, org, campaignID uuid.UUID) (Stats, error) {
	var st Stats
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		if _, err := tx.CampaignGet(ctx, org, campaignID); err != nil {
			return err
		}
		counts, err := tx.TargetCountByStatus(ctx, org, campaignID)
		if err != nil {
			return err
		}
		st.SkippedByReason = map[string]int64{}
		for _, r := range counts {
			st.Targets.add(r.Status, r.Targets)
			if r.SkipReason != "" && (r.Status == TargetSkipped || r.Status == TargetCancelled) {
				st.SkippedByReason[r.SkipReason] += r.Targets
			}
		}
		c, err := tx.CampaignCallStats(ctx, org, &campaignID)
		if err != nil {
			return err
		}
		st.Calls, st.Connects, st.Completions = c.Calls, c.Connects, c.Completions
		st.Bookings, st.OptOuts, st.DurationSec = c.Bookings, c.OptOuts, c.DurationSec
		st.NPSResponses = c.NpsResponses
		st.Cost = Money{Amount: c.CostAmount, Currency: c.Currency}
		if c.NpsResponses > 0 {
			n := float64(c.NpsResponses)
			avg := round2(float64(c.NpsSum) / n)
			nps := round2(100 * float64(c.Promoters-c.Detractors) / n)
			st.AverageNPS, st.NPS = &avg, &nps
		}
		return nil
	})
	return st, err
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }
