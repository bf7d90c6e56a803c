// Package vapi is AutoPulse's adapter for Vapi (https://vapi.ai): placing
// calls through its REST API (Client, a voice.Provider) and reading its
// server-message webhooks (ParseEvent, Verify).
//
// What AutoPulse relies on, checked against Vapi's API reference:
//   - POST /call with a Bearer API key; the body names an assistant
//     (assistantId, or an inline assistant), the phoneNumberId of our line
//     and the customer. CreateCallDTO has no metadata property and Vapi
//     rejects unknown properties, so the call's metadata goes in
//     assistantOverrides.metadata, next to variableValues and the
//     firstMessage that carries the disclosure.
//   - GET /call/{id} returns the Call; GET /call lists calls, filtered by
//     phoneNumberId and createdAt bounds (createdAtGe, createdAtLe), newest
//     first.
//   - Webhooks ("server messages") are POSTed as {"message": {...}} to the
//     server URL of the assistant, the phone number or the organization.
//     Set the server URL and its credential in Vapi's dashboard, not in
//     the API request: Vapi attaches a credential only to a saved server
//     configuration. See signature.go for the credential settings.
package vapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/autopulse/autopulse/internal/voice"
)

// Defaults.
const (
	DefaultBaseURL       = "https://api.vapi.ai"
	DefaultTimeout       = 15 * time.Second
	DefaultModelProvider = "openai"
	DefaultModel         = "gpt-4o"

	maxResponseBytes = 1 << 20  // one Call object
	maxListBytes     = 16 << 20 // a page of Call objects, transcripts included
	listPageSize     = 100
	DefaultFindLimit = 2000
	maxRetryAfter    = time.Hour
)

// Client places and looks up calls through Vapi's API. The zero value is
// not usable: APIKey and PhoneNumberID are required, and AssistantID
// unless every request brings its own assistant. A Client is safe for
// concurrent use.
type Client struct {
	BaseURL       string       // default DefaultBaseURL
	APIKey        string       // private API key, sent as a Bearer token
	AssistantID   string       // default assistant for requests that name none
	PhoneNumberID string       // the Vapi phone number calls are placed from
	HTTP          *http.Client // default: a client with DefaultTimeout
	// FindLimit is the most calls FindByCallID reads before it gives up
	// without an answer (default DefaultFindLimit).
	FindLimit int
}

var (
	_ voice.Provider = (*Client)(nil)
	_ voice.Finder   = (*Client)(nil)
)

var defaultHTTP = &http.Client{Timeout: DefaultTimeout}

// Dial places one outbound call with POST /call.
func (c *Client) Dial(ctx context.Context, req voice.DialRequest) (voice.DialResult, error) {
	const op = "dial"
	if err := req.Validate(); err != nil {
		return voice.DialResult{}, err
	}
	body, err := c.createBody(&req)
	if err != nil {
		return voice.DialResult{}, &voice.Error{Op: op, Message: err.Error(), Invalid: true}
	}
	var created wireCall
	if err := c.do(ctx, op, http.MethodPost, "/call", nil, body, maxResponseBytes, &created); err != nil {
		return voice.DialResult{}, err
	}
	if created.ID == "" || len(created.ID) > maxIDLen {
		// The call may well exist; only its id is missing.
		return voice.DialResult{}, &voice.Error{Op: op, Message: "response has no call id", Retryable: true, Uncertain: true}
	}
	res := voice.DialResult{ProviderCallID: created.ID, Status: voice.Status(created.Status)}
	if t, err := time.Parse(time.RFC3339Nano, created.CreatedAt); err == nil {
		res.CreatedAt = t.UTC()
	}
	return res, nil
}

func (c *Client) createBody(req *voice.DialRequest) (*createCallBody, error) {
	if c.PhoneNumberID == "" {
		return nil, errors.New("vapi client has no phone number id")
	}
	meta := make(map[string]string, len(req.Metadata)+3)
	for k, v := range req.Metadata {
		meta[k] = v
	}
	meta[voice.MetaCallID] = req.CallID.String()
	meta[voice.MetaOrganizationID] = req.OrganizationID.String()
	if req.CampaignType != "" {
		meta[voice.MetaCampaignType] = req.CampaignType
	}
	vars := make(map[string]string, len(req.Variables)+1)
	for k, v := range req.Variables {
		vars[k] = v
	}
	if _, ok := vars["customer_name"]; !ok && req.CustomerName != "" {
		vars["customer_name"] = req.CustomerName
	}
	b := &createCallBody{
		PhoneNumberID: c.PhoneNumberID,
		Customer:      createCustomer{Number: req.ToNumber, Name: clip(req.CustomerName, 40)},
		Name:          clip(strings.TrimSpace("AutoPulse "+req.CampaignType), 40),
		AssistantOverrides: &assistantOverrides{
			FirstMessage:     req.OpeningLine(),
			FirstMessageMode: "assistant-speaks-first",
			VariableValues:   vars,
			Metadata:         meta,
		},
	}
	switch a := req.Assistant; {
	case a != nil:
		b.Assistant = &createAssistant{
			Name:         a.Name,
			FirstMessage: req.OpeningLine(),
			Model: createModel{
				Provider: first(a.ModelProvider, DefaultModelProvider),
				Model:    first(a.Model, DefaultModel),
				Messages: []modelMessage{{Role: "system", Content: a.SystemPrompt}},
			},
			AnalysisPlan: &analysisPlan{StructuredDataPlan: structuredDataPlan{
				Enabled: true, Schema: json.RawMessage(voice.StructuredDataSchema),
			}},
			ArtifactPlan: &artifactPlan{RecordingEnabled: true},
		}
		if a.VoiceProvider != "" && a.VoiceID != "" {
			b.Assistant.Voice = &createVoice{Provider: a.VoiceProvider, VoiceID: a.VoiceID}
		}
	case req.AssistantID != "":
		b.AssistantID = req.AssistantID
	case c.AssistantID != "":
		b.AssistantID = c.AssistantID
	default:
		return nil, errors.New("no assistant: the request names none and the client has no default")
	}
	return b, nil
}

// GetCall returns the call's state with GET /call/{id}; an ended call's
// state carries its report.
func (c *Client) GetCall(ctx context.Context, providerCallID string) (voice.CallState, error) {
	const op = "get call"
	if providerCallID == "" || len(providerCallID) > maxIDLen || !printable(providerCallID) {
		return voice.CallState{}, &voice.Error{Op: op, Message: "not a provider call id", Invalid: true}
	}
	var call wireCall
	if err := c.do(ctx, op, http.MethodGet, "/call/"+url.PathEscape(providerCallID), nil, nil, maxResponseBytes, &call); err != nil {
		return voice.CallState{}, err
	}
	if call.ID == "" {
		return voice.CallState{}, &voice.Error{Op: op, Message: "response has no call id", Retryable: true}
	}
	return callState(&call), nil
}

// FindByCallID finds the call placed with our callID in its metadata,
// among the calls from the client's phone number created at or after
// since. Vapi cannot filter by metadata, so this pages through the list,
// newest first, reading at most FindLimit calls: keep since close to the
// dial. When more than one call matches, which means a double dial, the
// earliest is returned.
//
// ErrNotFound means the whole listing since since was read and holds no
// such call. When the listing could not be read to its end (more calls
// than FindLimit, or a page the cursor cannot move past), the answer is
// unknown: the error matches ErrUncertain and ErrRetryable, never
// ErrNotFound, because a caller that took it for "not placed" would dial
// twice.
func (c *Client) FindByCallID(ctx context.Context, callID uuid.UUID, since time.Time) (voice.CallState, error) {
	const op = "find call"
	if c.PhoneNumberID == "" {
		return voice.CallState{}, &voice.Error{Op: op, Message: "vapi client has no phone number id", Invalid: true}
	}
	limit := c.FindLimit
	if limit <= 0 {
		limit = DefaultFindLimit
	}
	want := callID.String()
	q := url.Values{
		"phoneNumberId": {c.PhoneNumberID},
		"createdAtGe":   {since.UTC().Format(time.RFC3339Nano)},
		"limit":         {strconv.Itoa(min(listPageSize, limit))},
	}
	var found *wireCall
	var foundAt time.Time
	seen := map[string]bool{}
	for complete := false; !complete; {
		if len(seen) >= limit {
			return unfinishedSearch(op, found, fmt.Sprintf("more than %d calls since %s; the search stopped before their end",
				limit, since.UTC().Format(time.RFC3339)))
		}
		var page []wireCall
		if err := c.do(ctx, op, http.MethodGet, "/call", q, nil, maxListBytes, &page); err != nil {
			return voice.CallState{}, err
		}
		var oldest time.Time
		fresh := 0
		for i := range page {
			call := &page[i]
			if call.ID == "" || seen[call.ID] {
				continue
			}
			seen[call.ID] = true
			fresh++
			created, _ := time.Parse(time.RFC3339Nano, call.CreatedAt)
			if oldest.IsZero() || (!created.IsZero() && created.Before(oldest)) {
				oldest = created
			}
			if mergedMetadata(&wireMessage{}, call)[voice.MetaCallID] != want {
				continue
			}
			if found == nil || created.Before(foundAt) {
				found, foundAt = call, created
			}
		}
		pageSize, _ := strconv.Atoi(q.Get("limit"))
		switch {
		case len(page) < pageSize:
			complete = true // the listing's end
		case fresh == 0 || oldest.IsZero():
			// A full page with nothing new (more calls in one instant
			// than a page holds), or without times to page by.
			return unfinishedSearch(op, found, "the call listing cannot be paged past "+oldest.UTC().Format(time.RFC3339Nano))
		default:
			// Calls created in the same millisecond as the page's oldest
			// may sit on either side of the page boundary: include that
			// instant again and skip the calls already seen.
			q.Set("createdAtLe", oldest.UTC().Format(time.RFC3339Nano))
		}
	}
	if found == nil {
		return voice.CallState{}, &voice.Error{Op: op, Message: "no call with " + voice.MetaCallID + " " + want, NotFound: true}
	}
	return callState(found), nil
}

// unfinishedSearch answers a search that could not read the listing to
// its end: a match already seen is the answer (the earliest of the calls
// read, which may not be the earliest of all); otherwise it is unknown.
func unfinishedSearch(op string, found *wireCall, why string) (voice.CallState, error) {
	if found != nil {
		return callState(found), nil
	}
	return voice.CallState{}, &voice.Error{Op: op, Message: why, Retryable: true, Uncertain: true}
}

func callState(c *wireCall) voice.CallState {
	var p problems
	meta := mergedMetadata(&wireMessage{}, c)
	st := voice.CallState{
		ProviderCallID: c.ID,
		CallID:         p.uuid(meta, voice.MetaCallID),
		OrganizationID: p.uuid(meta, voice.MetaOrganizationID),
		Status:         voice.Status(clip(c.Status, 40)),
		EndedReason:    clip(c.EndedReason, maxReasonLen),
		CreatedAt:      p.time("createdAt", c.CreatedAt),
		Metadata:       meta,
	}
	st.Direction = p.direction(c.Type, st.CallID)
	if st.Status == voice.StatusEnded {
		st.Report = buildReport(c.ID, &wireMessage{}, c)
	}
	return st
}

// do sends one API request and decodes a 2xx JSON answer into out.
func (c *Client) do(ctx context.Context, op, method, path string, query url.Values, in any, limit int64, out any) error {
	if c.APIKey == "" {
		return &voice.Error{Op: op, Message: "vapi client has no API key", Invalid: true}
	}
	base := strings.TrimRight(first(c.BaseURL, DefaultBaseURL), "/")
	u := base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return &voice.Error{Op: op, Message: "encoding request: " + err.Error(), Invalid: true}
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return &voice.Error{Op: op, Message: "building request: " + err.Error(), Invalid: true}
	}
	req.Header.Set("Authorization", "Bearer "+c.APIKey)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "autopulse")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		return transportError(op, method, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return transportError(op, method, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return statusError(op, method, resp, data)
	}
	mutating := method != http.MethodGet
	if int64(len(data)) > limit {
		return &voice.Error{Op: op, StatusCode: resp.StatusCode, Message: fmt.Sprintf("response is larger than %d bytes", limit), Retryable: true, Uncertain: mutating}
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &voice.Error{Op: op, StatusCode: resp.StatusCode, Message: "decoding response: " + err.Error(), Retryable: true, Uncertain: mutating}
	}
	return nil
}

// transportError classifies a request that got no HTTP answer. A request
// that failed while connecting never reached Vapi; any later failure may
// have, so a POST is then uncertain.
func transportError(op, method string, err error) error {
	e := &voice.Error{Op: op, Retryable: true, Err: err}
	var opErr *net.OpError
	var dnsErr *net.DNSError
	notSent := errors.As(err, &dnsErr) || (errors.As(err, &opErr) && opErr.Op == "dial")
	e.Uncertain = method != http.MethodGet && !notSent
	return e
}

// statusError classifies an HTTP error answer: 408, 425, 429 and 5xx are
// retryable; a 5xx to a POST is also uncertain (the call may have been
// created before the failure); other 4xx are permanent.
func statusError(op, method string, resp *http.Response, data []byte) error {
	e := &voice.Error{Op: op, StatusCode: resp.StatusCode, Message: providerMessage(data)}
	switch code := resp.StatusCode; {
	case code == http.StatusRequestTimeout, code == http.StatusTooEarly, code == http.StatusTooManyRequests:
		e.Retryable = true
		e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"))
	case code >= 500:
		e.Retryable = true
		e.Uncertain = method != http.MethodGet
		e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"))
	}
	return e
}

// providerMessage extracts Vapi's error message ({"message": "…" | […]}),
// else the start of the body, shortened and stripped of control characters.
func providerMessage(data []byte) string {
	var w wireError
	msg := ""
	if json.Unmarshal(data, &w) == nil && len(w.Message) > 0 {
		var s string
		var list []string
		switch {
		case json.Unmarshal(w.Message, &s) == nil:
			msg = s
		case json.Unmarshal(w.Message, &list) == nil:
			msg = strings.Join(list, "; ")
		}
	}
	if msg == "" {
		msg = string(data)
	}
	msg = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, msg)
	return clip(strings.TrimSpace(msg), 300)
}

func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && secs >= 0 {
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = time.Until(t)
	}
	return max(0, min(d, maxRetryAfter))
}
