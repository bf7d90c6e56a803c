package httpapi

import (
	"context"

	"github.com/autopulse/autopulse/internal/campaign"
)

func (s *Server) scheduleConfigGet(ctx context.Context, _ *struct{}) (*body[campaign.Schedule], error) {
	sc, err := s.deps.Campaigns.OrgSchedule(ctx, org(ctx))
	return bodyOf(sc), err
}

type scheduleInput struct {
	Body campaign.ScheduleInput
}

func (s *Server) scheduleConfigPut(ctx context.Context, in *scheduleInput) (*body[campaign.Schedule], error) {
	sc, err := s.deps.Campaigns.SetOrgSchedule(ctx, org(ctx), in.Body)
	return bodyOf(sc), err
}

func (s *Server) campaignScheduleGet(ctx context.Context, in *IDPath) (*body[campaign.Schedule], error) {
	sc, err := s.deps.Campaigns.CampaignSchedule(ctx, org(ctx), in.id())
	return bodyOf(sc), err
}

type campaignScheduleInput struct {
	IDPath
	Body campaign.ScheduleInput
}

func (s *Server) campaignSchedulePut(ctx context.Context, in *campaignScheduleInput) (*body[campaign.Schedule], error) {
	sc, err := s.deps.Campaigns.SetCampaignSchedule(ctx, org(ctx), in.id(), in.Body)
	return bodyOf(sc), err
}

func (s *Server) campaignScheduleDelete(ctx context.Context, in *IDPath) (*body[campaign.Schedule], error) {
	sc, err := s.deps.Campaigns.ClearCampaignSchedule(ctx, org(ctx), in.id())
	return bodyOf(sc), err
}
