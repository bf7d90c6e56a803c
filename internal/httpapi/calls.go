package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humachi"
	"github.com/google/uuid"

	"github.com/autopulse/autopulse/internal/call"
	"github.com/autopulse/autopulse/internal/fault"
)

type callListInput struct {
	ListParams
	CampaignID string    `query:"campaign_id" format:"uuid"`
	CustomerID string    `query:"customer_id" format:"uuid"`
	Status     string    `query:"status" enum:"queued,dialing,ringing,in_progress,forwarding,ended,failed"`
	Outcome    string    `query:"outcome" enum:"completed,no_answer,busy,voicemail,failed"`
	Direction  string    `query:"direction" enum:"outbound,inbound"`
	Since      time.Time `query:"since" doc:"Calls created at or after this time (RFC 3339)"`
	Until      time.Time `query:"until" doc:"Calls created before this time (RFC 3339)"`
}

func (s *Server) callList(ctx context.Context, in *callListInput) (*body[list[call.Call]], error) {
	pr, err := in.page()
	if err != nil {
		return nil, err
	}
	f := call.Filter{Status: in.Status, Outcome: in.Outcome, Direction: in.Direction, Since: callQueryTime(in.Since), Until: callQueryTime(in.Until)}
	if f.CampaignID, err = callQueryUUID(in.CampaignID, "query.campaign_id"); err != nil {
		return nil, err
	}
	if f.CustomerID, err = callQueryUUID(in.CustomerID, "query.customer_id"); err != nil {
		return nil, err
	}
	items, next, err := s.deps.Calls.List(ctx, org(ctx), f, pr)
	if err != nil {
		return nil, err
	}
	return listOf(items, next), nil
}

func (s *Server) callGet(ctx context.Context, in *IDPath) (*body[call.CallDetail], error) {
	d, err := s.deps.Calls.Get(ctx, org(ctx), in.id())
	return bodyOf(d), err
}

func (s *Server) callTranscript(ctx context.Context, in *IDPath) (*body[call.Transcript], error) {
	t, err := s.deps.Calls.Transcript(ctx, org(ctx), in.id())
	return bodyOf(t), err
}

// callRecording streams the stored recording. http.ServeContent answers
// Range (206, several ranges as multipart), If-Range against the ETag (the
// content's SHA-256) and unsatisfiable ranges (416).
func (s *Server) callRecording(ctx context.Context, in *IDPath) (*huma.StreamResponse, error) {
	rs, _, obj, err := s.deps.Calls.OpenRecording(ctx, org(ctx), in.id())
	if err != nil {
		return nil, err
	}
	name := "call-" + in.id().String() + audioExtension(obj.ContentType)
	return &huma.StreamResponse{Body: func(hctx huma.Context) {
		defer rs.Close()
		r, w := humachi.Unwrap(hctx)
		h := w.Header()
		h.Set("Content-Type", obj.ContentType)
		h.Set("Cache-Control", "private, no-cache")
		h.Set("Content-Disposition", `inline; filename="`+name+`"`)
		if obj.SHA256 != "" {
			h.Set("ETag", `"`+obj.SHA256+`"`)
		}
		http.ServeContent(w, r, "", obj.ModTime, rs)
	}}, nil
}

// streamAudio registers the recording route and documents its audio
// responses (huma cannot see what a stream writes).
func streamAudio(h func(context.Context, *IDPath) (*huma.StreamResponse, error)) registrar {
	return func(s *Server, api huma.API, op huma.Operation) {
		op.Description = "Streams the audio with its stored content type (audio/wav for the simulator). " +
			"Supports Range and If-Range (ETag is the SHA-256): 206 with a partial body, 416 for a range past the end. " +
			"404 while the recording is pending or failed."
		handle(h)(s, api, op)
		item := api.OpenAPI().Paths[op.Path]
		if item == nil || item.Get == nil {
			return
		}
		binary := map[string]*huma.MediaType{"audio/*": {Schema: &huma.Schema{Type: "string", Format: "binary"}}}
		item.Get.Responses["200"] = &huma.Response{Description: "The whole recording", Content: binary}
		item.Get.Responses["206"] = &huma.Response{Description: "The requested range(s)", Content: binary}
		item.Get.Responses["416"] = &huma.Response{Description: "The range is not satisfiable"}
	}
}

func audioExtension(contentType string) string {
	switch contentType {
	case "audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave":
		return ".wav"
	case "audio/mpeg", "audio/mp3":
		return ".mp3"
	}
	return ""
}

func callQueryTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// callQueryUUID parses an optional id parameter.
func callQueryUUID(s, location string) (*uuid.UUID, error) {
	if s == "" {
		return nil, nil
	}
	id, err := uuid.Parse(s)
	if err != nil {
		return nil, fault.InvalidField(location, "must be a UUID")
	}
	return &id, nil
}
