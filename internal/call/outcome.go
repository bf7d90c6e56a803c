package call

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/autopulse/autopulse/internal/audit"
	"github.com/autopulse/autopulse/internal/notify"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/db"
	"github.com/autopulse/autopulse/internal/setting"
	"github.com/autopulse/autopulse/internal/voice"
)

// Inquiry topics the outcome rules use.
const (
	TopicDetractor = "nps_detractor" // a feedback call scored 0–6
	TopicCallback  = "callback"      // the customer asked a person to call back
	TopicGeneral   = "general"       // an inbound question without a topic
)

// party is the customer on the other end of a call.
type party struct {
	customerID *uuid.UUID
	name       string
	firstName  string
	phone      string
	email      string
}

func partyOf(ctx context.Context, tx *postgres.Tx, c db.Call) (party, error) {
	p := party{customerID: c.CustomerID}
	if c.Direction == string(voice.Inbound) {
		p.phone = deref(c.FromNumber)
	} else {
		p.phone = deref(c.ToNumber)
	}
	if c.CustomerID == nil {
		return p, nil
	}
	cu, err := tx.CallCustomerGet(ctx, c.OrganizationID, *c.CustomerID)
	switch {
	case isNoRows(err):
		return p, nil
	case err != nil:
		return p, err
	}
	p.firstName = strings.TrimSpace(cu.FirstName)
	p.name = strings.TrimSpace(cu.FirstName + " " + cu.LastName)
	p.email = deref(cu.Email)
	if p.phone == "" {
		p.phone = deref(cu.Phone)
	}
	return p, nil
}

// applyOutcome applies what the customer said, in the transaction that
// stores the call's result:
//
//   - opt_out adds the number to the do-not-call list (source call_opt_out)
//     and cancels the organization's other open targets for it, whatever
//     the call's outcome;
//
// and, for a completed call only (someone spoke with the agent):
//
//   - wants_booking creates a Booking at booking_time, or, when none (or a
//     past one) was given, at a placeholder the next business morning;
//   - a detractor (NPS 0–6) opens an Inquiry (topic nps_detractor) assigned
//     to the manager with the fewest open inquiries, and queues an
//     escalation email to the escalation_email setting, else that manager;
//   - an inbound call that booked nothing opens an Inquiry on its
//     inquiry_topic; an outbound one where the customer asked for a call
//     back opens one too (topic callback);
//   - a promoter (NPS 9–10) gets the review link by SMS (queued, or
//     suppressed with the reason: sms_enabled off, no review link, the
//     number on the DNC list, an opt-out, no number).
//
// The NPS score and sentiment are already on the call. Every row created is
// audited (no actor: the provider reported it).
func (s *Service) applyOutcome(ctx context.Context, tx *postgres.Tx, c db.Call, r *voice.EndOfCallReport, outcome voice.Outcome, now time.Time) error {
	sd := r.StructuredData
	who, err := partyOf(ctx, tx, c)
	if err != nil {
		return err
	}
	if sd.OptOut {
		if err := s.optOut(ctx, tx, c, who.phone, now); err != nil {
			return err
		}
	}
	if outcome != voice.OutcomeCompleted {
		return nil
	}
	booked := false
	if sd.WantsBooking {
		if booked, err = bookFromCall(ctx, tx, c, who, sd, r.Summary, now); err != nil {
			return err
		}
	}
	var category voice.NPSCategory
	if sd.NPSScore != nil {
		category = voice.CategoryOf(*sd.NPSScore)
	}
	var org *db.Organization
	if category == voice.Promoter || category == voice.Detractor {
		o, err := tx.OrganizationGet(ctx, c.OrganizationID)
		if err != nil {
			return err
		}
		org = &o
	}
	switch {
	case category == voice.Detractor:
		err = escalate(ctx, tx, c, who, r, org.Name)
	case c.Direction == string(voice.Inbound) && !booked:
		_, err = inquireFromCall(ctx, tx, c, who, firstNonEmpty(sd.InquiryTopic, TopicGeneral), firstNonEmpty(r.Summary, r.Transcript), nil)
	case sd.CallbackAsked:
		_, err = inquireFromCall(ctx, tx, c, who, firstNonEmpty(sd.InquiryTopic, TopicCallback), firstNonEmpty(r.Summary, "The customer asked for a call back."), nil)
	}
	if err != nil {
		return err
	}
	if category == voice.Promoter {
		return queueReviewLink(ctx, tx, c, who, sd.OptOut, org.Name)
	}
	return nil
}

// dncView is a do-not-call entry as the audit log records it.
type dncView struct {
	ID     uuid.UUID  `json:"id"`
	Phone  string     `json:"phone"`
	Reason string     `json:"reason"`
	Source string     `json:"source"`
	CallID *uuid.UUID `json:"call_id"`
}

func (s *Service) optOut(ctx context.Context, tx *postgres.Tx, c db.Call, phone string, now time.Time) error {
	if !voice.ValidE164(phone) {
		s.log().ErrorContext(ctx, "opt-out without a usable number: not added to the DNC list",
			"organization_id", c.OrganizationID, "call_id", c.ID)
		return nil
	}
	rows, err := tx.DNCEntryAddFromCall(ctx, db.DNCEntryAddFromCallParams{
		OrganizationID: c.OrganizationID, ID: uuid.Must(uuid.NewV7()), Phone: phone,
		Reason: "Asked not to be called again on call " + c.ID.String(), CallID: &c.ID,
	})
	if err != nil {
		return err
	}
	if len(rows) == 1 {
		e := rows[0]
		if err := audit.Record(ctx, tx, audit.Create, "dnc_entry", e.ID, nil,
			dncView{ID: e.ID, Phone: e.Phone, Reason: e.Reason, Source: e.Source, CallID: e.CallID}); err != nil {
			return err
		}
	}
	campaigns, err := tx.TargetCancelOpenByPhone(ctx, db.TargetCancelOpenByPhoneParams{
		OrganizationID: c.OrganizationID, Phone: phone, Now: now, Reason: "opted out on call " + c.ID.String(),
	})
	if err != nil {
		return err
	}
	// The cancelled targets may have been their campaigns' last open ones.
	slices.SortFunc(campaigns, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	for _, id := range slices.Compact(campaigns) {
		if err := s.completeIfDone(ctx, tx, id); err != nil {
			return err
		}
	}
	s.log().InfoContext(ctx, "opt-out recorded", "organization_id", c.OrganizationID, "call_id", c.ID, "targets_cancelled", len(campaigns))
	return nil
}

// bookFromCall creates the call's booking. It reports whether the call has
// one (made now, or before).
func bookFromCall(ctx context.Context, tx *postgres.Tx, c db.Call, who party, sd voice.StructuredData, summary string, now time.Time) (bool, error) {
	notes := summary
	var at time.Time
	if sd.BookingTime != nil && sd.BookingTime.After(now) {
		at = *sd.BookingTime
	} else {
		var err error
		if at, err = defaultBookingTime(ctx, tx, now); err != nil {
			return false, err
		}
		notes = strings.TrimSpace("No time was agreed on the call: this placeholder is the next business morning; confirm a time with the customer.\n" + summary)
	}
	p := db.BookingInsertFromCallParams{
		OrganizationID: c.OrganizationID, ID: uuid.Must(uuid.NewV7()), CallID: &c.ID, CustomerID: who.customerID,
		CampaignID: c.CampaignID, ScheduledAt: at, Notes: notes, CustomerName: who.name, CustomerPhone: optional(who.phone),
	}
	if c.ServiceRecordID != nil {
		sr, err := tx.CallServiceRecordGet(ctx, c.OrganizationID, *c.ServiceRecordID)
		switch {
		case err == nil:
			p.VehicleID, p.ServiceType = sr.VehicleID, sr.ServiceType
		case !isNoRows(err):
			return false, err
		}
	}
	rows, err := tx.BookingInsertFromCall(ctx, p)
	if err != nil {
		return false, err
	}
	if len(rows) == 1 {
		b := bookingOf(rows[0])
		return true, audit.Record(ctx, tx, audit.Create, "booking", b.ID, nil, b)
	}
	return true, nil
}

// defaultBookingTime is the placeholder time of a booking asked for without
// a time: the next business morning in the organization's time zone.
func defaultBookingTime(ctx context.Context, tx *postgres.Tx, now time.Time) (time.Time, error) {
	tz, err := setting.Read(ctx, tx, setting.KeyTimezone)
	if err != nil {
		return time.Time{}, err
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		loc = time.UTC
	}
	hours, err := setting.Read(ctx, tx, setting.KeyBusinessHours)
	if err != nil {
		return time.Time{}, err
	}
	return nextBusinessMorning(now, loc, hours), nil
}

// nextBusinessMorning returns 09:00 local time (the opening time when 09:00
// is outside the business hours) on the first business day after now's
// local date.
func nextBusinessMorning(now time.Time, loc *time.Location, hours setting.BusinessHours) time.Time {
	at := "09:00"
	if at < hours.Start || at >= hours.End {
		at = hours.Start
	}
	var h, m int
	if _, err := fmt.Sscanf(at, "%d:%d", &h, &m); err != nil {
		h, m = 9, 0
	}
	local := now.In(loc)
	for d := 1; d <= 7; d++ {
		t := time.Date(local.Year(), local.Month(), local.Day()+d, h, m, 0, 0, loc)
		if hours.Contains(t) {
			return t.UTC()
		}
	}
	return time.Date(local.Year(), local.Month(), local.Day()+1, h, m, 0, 0, loc).UTC()
}

func inquireFromCall(ctx context.Context, tx *postgres.Tx, c db.Call, who party, topic, message string, assignee *uuid.UUID) (*Inquiry, error) {
	rows, err := tx.InquiryInsertFromCall(ctx, db.InquiryInsertFromCallParams{
		OrganizationID: c.OrganizationID, ID: uuid.Must(uuid.NewV7()), CallID: &c.ID, CustomerID: who.customerID,
		CustomerName: who.name, CustomerPhone: optional(who.phone), CustomerEmail: optional(who.email),
		Topic: clip(topic, 200), Message: message, AssignedTo: assignee,
	})
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	in := inquiryOf(rows[0])
	return &in, audit.Record(ctx, tx, audit.Create, "inquiry", in.ID, nil, in)
}

// escalate opens the detractor's inquiry for a manager and queues the
// escalation email.
func escalate(ctx context.Context, tx *postgres.Tx, c db.Call, who party, r *voice.EndOfCallReport, orgName string) error {
	sd := r.StructuredData
	managers, err := tx.InquiryAssigneePick(ctx, c.OrganizationID)
	if err != nil {
		return err
	}
	var assignee *uuid.UUID
	var managerEmail string
	if len(managers) == 1 {
		assignee, managerEmail = &managers[0].ID, managers[0].Email
	}
	var msg strings.Builder
	fmt.Fprintf(&msg, "NPS %d/10.", *sd.NPSScore)
	if sd.ToImprove != "" {
		fmt.Fprintf(&msg, " To improve: %s", sd.ToImprove)
	}
	if sd.InquiryTopic != "" {
		fmt.Fprintf(&msg, " (about %s)", sd.InquiryTopic)
	}
	if r.Summary != "" {
		fmt.Fprintf(&msg, "\nSummary: %s", r.Summary)
	}
	in, err := inquireFromCall(ctx, tx, c, who, TopicDetractor, msg.String(), assignee)
	if err != nil || in == nil {
		return err
	}
	to, err := setting.Read(ctx, tx, setting.KeyEscalationEmail)
	if err != nil {
		return err
	}
	customer := firstNonEmpty(who.name, who.phone, "A customer")
	var body strings.Builder
	fmt.Fprintf(&body, "%s rated %s %d/10 on a feedback call.\n\n%s\n\n", customer, orgName, *sd.NPSScore, msg.String())
	if who.phone != "" {
		fmt.Fprintf(&body, "Phone: %s\n", who.phone)
	}
	fmt.Fprintf(&body, "Inquiry: %s\nCall: %s\n", in.ID, c.ID)
	_, _, err = notify.QueueForCall(ctx, tx, notify.Message{
		Channel: notify.Email, Kind: notify.KindDetractorEscalation, Recipient: firstNonEmpty(to, managerEmail),
		Subject: fmt.Sprintf("Detractor alert: %s rated %s %d/10", customer, orgName, *sd.NPSScore),
		Body:    body.String(), CallID: c.ID, CustomerID: who.customerID, InquiryID: &in.ID,
	})
	return err
}

// queueReviewLink queues the promoter's review-link SMS, or records it as
// suppressed with the reason.
func queueReviewLink(ctx context.Context, tx *postgres.Tx, c db.Call, who party, optedOut bool, orgName string) error {
	link, err := setting.Read(ctx, tx, setting.KeyReviewLink)
	if err != nil {
		return err
	}
	enabled, err := setting.Read(ctx, tx, setting.KeySMSEnabled)
	if err != nil {
		return err
	}
	listed := false
	if who.phone != "" {
		if listed, err = tx.DNCEntryExistsForPhone(ctx, c.OrganizationID, who.phone); err != nil {
			return err
		}
	}
	var reason string
	switch {
	case optedOut:
		reason = notify.ReasonOptedOut
	case who.phone == "":
		reason = notify.ReasonNoRecipient
	case listed:
		reason = notify.ReasonDNC
	case link == "":
		reason = notify.ReasonNoReviewLink
	case !enabled:
		reason = notify.ReasonSMSDisabled
	}
	greeting := "Thanks for your feedback"
	if who.firstName != "" {
		greeting += ", " + who.firstName
	}
	body := fmt.Sprintf("%s! If you have a minute, please review %s: %s Reply STOP to opt out.", greeting, orgName, firstNonEmpty(link, "(no review link set)"))
	_, _, err = notify.QueueForCall(ctx, tx, notify.Message{
		Channel: notify.SMS, Kind: notify.KindReviewLink, Recipient: who.phone, Body: body,
		CallID: c.ID, CustomerID: who.customerID, Suppressed: reason,
	})
	return err
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}
