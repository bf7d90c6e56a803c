package httpapi

import (
	"context"
	"time"

	"github.com/autopulse/autopulse/internal/campaign"
)

type campaignListInput struct {
	ListParams
	Status string `query:"status" enum:"draft,scheduled,active,paused,completed,cancelled" doc:"Only campaigns in this status"`
	Type   string `query:"type" enum:"post_service_feedback,service_reminder,recall,declined_service,custom" doc:"Only campaigns of this type"`
}

func (s *Server) campaignList(ctx context.Context, in *campaignListInput) (*body[list[campaign.Campaign]], error) {
	pr, err := in.page()
	if err != nil {
		return nil, err
	}
	items, next, err := s.deps.Campaigns.List(ctx, org(ctx), campaign.Filter{Status: in.Status, Type: in.Type}, pr)
	if err != nil {
		return nil, err
	}
	return listOf(items, next), nil
}

type campaignCreateInput struct {
	Body campaign.Spec
}

func (s *Server) campaignCreate(ctx context.Context, in *campaignCreateInput) (*body[campaign.Campaign], error) {
	c, err := s.deps.Campaigns.Create(ctx, org(ctx), in.Body)
	return bodyOf(c), err
}

func (s *Server) campaignGet(ctx context.Context, in *IDPath) (*body[campaign.Campaign], error) {
	c, err := s.deps.Campaigns.Get(ctx, org(ctx), in.id())
	return bodyOf(c), err
}

// campaignPatch is the body of PATCH /campaigns/{id}, a JSON merge patch
// (RFC 7396). audience, agent and schedule are replaced whole; a campaign
// drops its own schedule with DELETE /campaigns/{id}/schedule.
type campaignPatch struct {
	Name            nullable[string]                 `json:"name,omitempty" minLength:"1" maxLength:"200"`
	Description     nullable[string]                 `json:"description,omitempty" nullable:"true" maxLength:"2000" doc:"null clears"`
	Type            nullable[string]                 `json:"type,omitempty" enum:"post_service_feedback,service_reminder,recall,declined_service,custom" doc:"Drafts only"`
	Audience        nullable[campaign.Audience]      `json:"audience,omitempty" doc:"Replaces the audience; drafts only"`
	Agent           nullable[campaign.AgentConfig]   `json:"agent,omitempty" doc:"Replaces the agent configuration"`
	MaxAttempts     nullable[int]                    `json:"max_attempts,omitempty" minimum:"1" maximum:"10"`
	RetryGapMinutes nullable[int]                    `json:"retry_gap_minutes,omitempty" minimum:"15" maximum:"10080"`
	StartsAt        nullable[time.Time]              `json:"starts_at,omitempty" nullable:"true" doc:"Drafts only; null clears"`
	EndsAt          nullable[time.Time]              `json:"ends_at,omitempty" nullable:"true" doc:"null clears"`
	Schedule        nullable[campaign.ScheduleInput] `json:"schedule,omitempty" doc:"Replaces the campaign's own schedule"`
}

type campaignUpdateInput struct {
	IDPath
	Body campaignPatch
}

func (s *Server) campaignUpdate(ctx context.Context, in *campaignUpdateInput) (*body[campaign.Campaign], error) {
	b := in.Body
	p := campaign.Patch{
		Description: clearable(b.Description),
		StartsAt:    optionalValue(b.StartsAt), EndsAt: optionalValue(b.EndsAt),
	}
	var err error
	if p.Name, err = present(b.Name, "body.name"); err != nil {
		return nil, err
	}
	if p.Type, err = present(b.Type, "body.type"); err != nil {
		return nil, err
	}
	if p.Audience, err = present(b.Audience, "body.audience"); err != nil {
		return nil, err
	}
	if p.Agent, err = present(b.Agent, "body.agent"); err != nil {
		return nil, err
	}
	if p.MaxAttempts, err = present(b.MaxAttempts, "body.max_attempts"); err != nil {
		return nil, err
	}
	if p.RetryGapMinutes, err = present(b.RetryGapMinutes, "body.retry_gap_minutes"); err != nil {
		return nil, err
	}
	if p.Schedule, err = present(b.Schedule, "body.schedule"); err != nil {
		return nil, err
	}
	c, err := s.deps.Campaigns.Update(ctx, org(ctx), in.id(), p)
	return bodyOf(c), err
}

// optionalValue maps a clearable field onto campaign.Optional.
func optionalValue[T any](n nullable[T]) campaign.Optional[T] {
	switch {
	case !n.Sent:
		return campaign.Optional[T]{}
	case n.Null:
		return campaign.Optional[T]{Set: true}
	}
	v := n.Value
	return campaign.Optional[T]{Set: true, Value: &v}
}

func (s *Server) campaignDelete(ctx context.Context, in *IDPath) (*noContent, error) {
	return nil, s.deps.Campaigns.Delete(ctx, org(ctx), in.id())
}

func (s *Server) campaignPreview(ctx context.Context, in *IDPath) (*body[campaign.AudienceCount], error) {
	c, err := s.deps.Campaigns.Preview(ctx, org(ctx), in.id())
	return bodyOf(c), err
}

func (s *Server) campaignLaunch(ctx context.Context, in *IDPath) (*body[campaign.Launched], error) {
	l, err := s.deps.Campaigns.Launch(ctx, org(ctx), in.id())
	return bodyOf(l), err
}

func (s *Server) campaignPause(ctx context.Context, in *IDPath) (*body[campaign.Campaign], error) {
	c, err := s.deps.Campaigns.Pause(ctx, org(ctx), in.id())
	return bodyOf(c), err
}

func (s *Server) campaignResume(ctx context.Context, in *IDPath) (*body[campaign.Campaign], error) {
	c, err := s.deps.Campaigns.Resume(ctx, org(ctx), in.id())
	return bodyOf(c), err
}

func (s *Server) campaignCancel(ctx context.Context, in *IDPath) (*body[campaign.Campaign], error) {
	c, err := s.deps.Campaigns.Cancel(ctx, org(ctx), in.id())
	return bodyOf(c), err
}

type campaignTargetListInput struct {
	IDPath
	ListParams
	Status string `query:"status" enum:"pending,dialing,in_call,retry,completed,failed,skipped,cancelled" doc:"Only targets in this status"`
}

func (s *Server) campaignTargetList(ctx context.Context, in *campaignTargetListInput) (*body[list[campaign.Target]], error) {
	pr, err := in.page()
	if err != nil {
		return nil, err
	}
	items, next, err := s.deps.Campaigns.Targets(ctx, org(ctx), in.id(), in.Status, pr)
	if err != nil {
		return nil, err
	}
	return listOf(items, next), nil
}

func (s *Server) campaignStats(ctx context.Context, in *IDPath) (*body[campaign.Stats], error) {
	st, err := s.deps.Campaigns.Stats(ctx, org(ctx), in.id())
	return bodyOf(st), err
}
