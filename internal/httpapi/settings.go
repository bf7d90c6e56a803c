package httpapi

import (
	"context"

	"github.com/autopulse/autopulse/internal/setting"
)

// SettingKeyPath is the {key} of a settings path. A malformed key is
// rejected by validation (422); the pattern is setting.KeyPattern.
type SettingKeyPath struct {
	Key string `path:"key" pattern:"^([a-z][a-z0-9_]{0,63}|custom\\.[a-z0-9_.-]{1,64})$" maxLength:"71" example:"business_hours" doc:"A known setting key, or custom.<name>"`
}

type settingListInput struct {
	ListParams
	Category string `query:"category" enum:"general,calling,messaging,custom" doc:"Only settings of this category"`
}

func (s *Server) settingList(ctx context.Context, in *settingListInput) (*body[list[setting.Setting]], error) {
	items, next, err := s.deps.Settings.List(ctx, org(ctx), setting.Filter{Category: in.Category}, in.Limit, in.Cursor)
	if err != nil {
		return nil, err
	}
	return listOf(items, next), nil
}

func (s *Server) settingGet(ctx context.Context, in *SettingKeyPath) (*body[setting.Setting], error) {
	v, err := s.deps.Settings.Get(ctx, org(ctx), in.Key)
	return bodyOf(v), err
}

type settingPutInput struct {
	SettingKeyPath
	Body setting.Change
}

func (s *Server) settingPut(ctx context.Context, in *settingPutInput) (*body[setting.Setting], error) {
	v, err := s.deps.Settings.Put(ctx, org(ctx), in.Key, in.Body)
	return bodyOf(v), err
}

func (s *Server) settingDelete(ctx context.Context, in *SettingKeyPath) (*noContent, error) {
	return nil, s.deps.Settings.Delete(ctx, org(ctx), in.Key)
}
