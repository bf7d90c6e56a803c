package compliance

// Geography: which US time zones a ZIP code, a state or an area code can be
// in. Every table errs wide: where an area straddles a zone line, or where
// the line is not certain at this granularity, the area gets every zone it
// touches, and the calling window must then hold in all of them.
//
// Zones are named by one representative IANA zone per set of US clock rules
// (since 2007 America/Indiana/Indianapolis, America/Detroit and
// America/Kentucky/Louisville keep New York's clock, America/Boise keeps
// Denver's, and so on), so equal clocks deduplicate.
//
// Sources (facts, not copied text):
//   - ZIP prefixes: the USPS three-digit ZIP prefix allocation (the public
//     "List of ZIP Code prefixes").
//   - Time-zone lines: 49 CFR part 71 (the US time-zone boundaries) as
//     summarized county by county in public references; de facto local
//     time is honored too (Phenix City, AL keeps Eastern time; Kenton, OK
//     and Van Horn, TX keep Mountain time; the Navajo Nation in Arizona
//     observes daylight saving time), since the rule is the called party's
//     local time.
//   - Area codes: libphonenumber's geocoding data as shipped in
//     nyaruka/phonenumbers v1.8.1 (area code → state), checked by a test;
//     its time-zone data is not used for US numbers because it is wrong in
//     places (it puts 689, Orlando, in Central time and all of 270,
//     western Kentucky, in Eastern).

// Representative zones.
const (
	Eastern  = "America/New_York"
	Central  = "America/Chicago"
	Mountain = "America/Denver"
	Arizona  = "America/Phoenix" // Mountain standard time all year
	Pacific  = "America/Los_Angeles"
	Alaska   = "America/Anchorage"
	Aleutian = "America/Adak" // west of 169°30′W: Adak, Atka
	Hawaii   = "Pacific/Honolulu"
	Atlantic = "America/Puerto_Rico" // Puerto Rico and the US Virgin Islands
	Chamorro = "Pacific/Guam"        // Guam and the Northern Mariana Islands
	Samoa    = "Pacific/Pago_Pago"
)

// strictestZones is every zone of the 50 states: the assumption when
// nothing is known about the recipient.
var strictestZones = []string{Eastern, Central, Mountain, Arizona, Pacific, Alaska, Aleutian, Hawaii}

// stateZones lists every zone in use in each state or territory.
var stateZones = map[string][]string{
	"AL": {Central, Eastern}, // Phenix City area keeps Eastern time
	"AK": {Alaska, Aleutian},
	"AZ": {Arizona, Mountain}, // the Navajo Nation observes DST
	"AR": {Central},
	"CA": {Pacific},
	"CO": {Mountain},
	"CT": {Eastern},
	"DE": {Eastern},
	"DC": {Eastern},
	"FL": {Eastern, Central}, // the panhandle west of the Apalachicola River is Central
	"GA": {Eastern},
	"HI": {Hawaii},
	"ID": {Mountain, Pacific}, // north of the Salmon River is Pacific
	"IL": {Central},
	"IN": {Eastern, Central}, // the Gary and Evansville corners are Central
	"IA": {Central},
	"KS": {Central, Mountain}, // four counties on the Colorado line are Mountain
	"KY": {Eastern, Central},  // the western half is Central
	"LA": {Central},
	"ME": {Eastern},
	"MD": {Eastern},
	"MA": {Eastern},
	"MI": {Eastern, Central}, // four Upper Peninsula counties on the Wisconsin line are Central
	"MN": {Central},
	"MS": {Central},
	"MO": {Central},
	"MT": {Mountain},
	"NE": {Central, Mountain}, // the panhandle is Mountain
	"NV": {Pacific, Mountain}, // West Wendover (and de facto Jackpot, Owyhee) keep Mountain time
	"NH": {Eastern},
	"NJ": {Eastern},
	"NM": {Mountain},
	"NY": {Eastern},
	"NC": {Eastern},
	"ND": {Central, Mountain}, // the southwest is Mountain
	"OH": {Eastern},
	"OK": {Central, Mountain}, // Kenton keeps Mountain time
	"OR": {Pacific, Mountain}, // most of Malheur County is Mountain
	"PA": {Eastern},
	"RI": {Eastern},
	"SC": {Eastern},
	"SD": {Central, Mountain}, // west of the Missouri River is mostly Mountain
	"TN": {Central, Eastern},  // East Tennessee is Eastern
	"TX": {Central, Mountain}, // El Paso and Hudspeth (and de facto Culberson) are Mountain
	"UT": {Mountain},
	"VT": {Eastern},
	"VA": {Eastern},
	"WA": {Pacific},
	"WV": {Eastern},
	"WI": {Central},
	"WY": {Mountain},
	"PR": {Atlantic},
	"VI": {Atlantic},
	"GU": {Chamorro},
	"MP": {Chamorro},
	"AS": {Samoa},
}

// usStates are the 50 states and DC: the jurisdictions a recipient of
// unknown location may be in.
var usStates = []string{
	"AK", "AL", "AR", "AZ", "CA", "CO", "CT", "DC", "DE", "FL", "GA", "HI", "IA", "ID", "IL", "IN", "KS",
	"KY", "LA", "MA", "MD", "ME", "MI", "MN", "MO", "MS", "MT", "NC", "ND", "NE", "NH", "NJ", "NM", "NV",
	"NY", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VA", "VT", "WA", "WI", "WV", "WY",
}

// zip3Range assigns a run of three-digit ZIP prefixes to a state. Prefixes
// not covered (military APO/FPO 090–098, 340, 962–966; unused ones) resolve
// to nothing.
type zip3Range struct {
	lo, hi int
	state  string
}

var zip3Ranges = []zip3Range{
	{5, 5, "NY"}, {6, 7, "PR"}, {8, 8, "VI"}, {9, 9, "PR"},
	{10, 27, "MA"}, {28, 29, "RI"}, {30, 38, "NH"}, {39, 49, "ME"}, {50, 54, "VT"}, {55, 55, "MA"},
	{56, 59, "VT"}, {60, 69, "CT"}, {70, 89, "NJ"},
	{100, 149, "NY"}, {150, 196, "PA"}, {197, 199, "DE"},
	{200, 200, "DC"}, {201, 201, "VA"}, {202, 205, "DC"}, {206, 219, "MD"}, {220, 246, "VA"},
	{247, 268, "WV"}, {270, 289, "NC"}, {290, 299, "SC"},
	{300, 319, "GA"}, {320, 339, "FL"}, {341, 349, "FL"}, {350, 369, "AL"}, {370, 385, "TN"},
	{386, 397, "MS"}, {398, 399, "GA"},
	{400, 427, "KY"}, {430, 459, "OH"}, {460, 479, "IN"}, {480, 499, "MI"},
	{500, 528, "IA"}, {530, 549, "WI"}, {550, 567, "MN"}, {569, 569, "DC"}, {570, 577, "SD"},
	{580, 588, "ND"}, {590, 599, "MT"},
	{600, 629, "IL"}, {630, 658, "MO"}, {660, 679, "KS"}, {680, 693, "NE"},
	{700, 714, "LA"}, {716, 729, "AR"}, {730, 731, "OK"}, {733, 733, "TX"}, {734, 749, "OK"},
	{750, 799, "TX"},
	{800, 816, "CO"}, {820, 831, "WY"}, {832, 838, "ID"}, {840, 847, "UT"}, {850, 865, "AZ"},
	{870, 884, "NM"}, {885, 885, "TX"}, {889, 898, "NV"},
	{900, 961, "CA"}, {967, 968, "HI"}, {969, 969, "GU"}, {970, 979, "OR"}, {980, 994, "WA"},
	{995, 999, "AK"},
}

// zip3Zones narrows the zones of a prefix in a multi-zone state where the
// whole prefix area is known to keep one clock (or fewer than the state's).
// A prefix of a multi-zone state that is not listed gets all the state's
// zones.
var zip3Zones = func() map[int][]string {
	m := make(map[int][]string)
	set := func(zones []string, prefixes ...int) {
		for _, p := range prefixes {
			m[p] = zones
		}
	}
	span := func(lo, hi int) []int {
		out := make([]int, 0, hi-lo+1)
		for p := lo; p <= hi; p++ {
			out = append(out, p)
		}
		return out
	}
	eastern, central, mountain := []string{Eastern}, []string{Central}, []string{Mountain}

	// Alabama: all Central but 368 (Phenix City, Lanett, Valley, Smiths Station keep Eastern).
	set(central, span(350, 367)...)
	set(central, 369)
	// Alaska: 995 holds Adak and Atka (Aleutian time); the rest is Alaska time.
	set([]string{Alaska}, span(996, 999)...)
	// Arizona: the Navajo Nation (DST) lies in 859, 860 and 865.
	set([]string{Arizona}, 850, 851, 852, 853, 855, 856, 857, 863, 864)
	// Florida: 325 (Pensacola) is Central; 324 (Panama City) is Central but
	// for southern Gulf County (Port St. Joe), which is Eastern.
	set(eastern, span(320, 323)...)
	set(eastern, span(326, 339)...)
	set(eastern, span(341, 349)...)
	set(central, 325)
	// Idaho: 835 (Lewiston) straddles the Salmon River; 838 (Coeur d'Alene) is Pacific.
	set(mountain, 832, 833, 834, 836, 837)
	set([]string{Pacific}, 838)
	// Indiana: 463–464 (Gary) and 477 (Evansville) are Central; 465, 475,
	// 476 and 479 include Central counties (Starke, Perry, Gibson, Jasper, Newton).
	set(eastern, 460, 461, 462, 466, 467, 468, 469, 470, 471, 472, 473, 474, 478)
	set(central, 463, 464, 477)
	// Kansas: 677 and 678 include Sherman, Wallace, Greeley and Hamilton (Mountain).
	set(central, span(660, 676)...)
	set(central, 679)
	// Kentucky: 420–424 (Paducah, Bowling Green, Owensboro, Henderson) are
	// Central; 401, 425–427 straddle the line.
	set(eastern, 400)
	set(eastern, span(402, 418)...)
	set(central, span(420, 424)...)
	// Michigan: 498–499 (Upper Peninsula) include the Central counties.
	set(eastern, span(480, 497)...)
	// Nebraska: 693 (Alliance) is Mountain; 690–692 straddle the line.
	set(central, span(680, 689)...)
	set(mountain, 693)
	// Nevada: 898 (Elko) holds West Wendover, Jackpot and Owyhee.
	set([]string{Pacific}, span(889, 897)...)
	// North Dakota: 585, 586 and 588 include Mountain counties.
	set(central, 580, 581, 582, 583, 584, 587)
	// Oklahoma: 739 (Guymon) holds Kenton.
	set(central, 730, 731, 734, 735, 736, 737, 738)
	set(central, span(740, 749)...)
	// Oregon: 979 holds Malheur County.
	set([]string{Pacific}, span(970, 978)...)
	// South Dakota: 577 (Rapid City) is Mountain; 575 and 576 straddle the line.
	set(central, span(570, 574)...)
	set(mountain, 577)
	// Tennessee: 373 (Chattanooga area) and 377 (Knoxville area) include
	// Central counties (Marion, Grundy, Sequatchie, Bledsoe, Cumberland).
	set(central, 370, 371, 372, 375)
	set(central, span(380, 385)...)
	set(eastern, 374, 376, 378, 379)
	// Texas: 799 and 885 (El Paso) are Mountain; 798 holds both.
	set(central, 733)
	set(central, span(750, 797)...)
	set(mountain, 799, 885)
	return m
}()

// areaCodes maps each geographic area code of the US and its territories to
// its state. Non-geographic codes (toll-free 8XX, 5XX, 900) are absent.
var areaCodes = func() map[string]string {
	byState := map[string]string{
		"AK": "907",
		"AL": "205 251 256 334 659 938",
		"AR": "327 479 501 870",
		"AZ": "480 520 602 623 928",
		"CA": "209 213 279 310 323 341 350 369 408 415 424 442 510 530 559 562 619 626 628 650 657 661 669 707 714 738 747 760 805 818 820 831 840 858 909 916 925 949 951",
		"CO": "303 719 720 748 970 983",
		"CT": "203 475 860 959",
		"DC": "202 771",
		"DE": "302",
		"FL": "239 305 321 324 352 386 407 448 561 645 656 689 727 728 754 772 786 813 850 863 904 941 954",
		"GA": "229 404 470 478 678 706 762 770 912 943",
		"HI": "808",
		"IA": "319 515 563 641 712",
		"ID": "208 986",
		"IL": "217 224 309 312 331 447 464 618 630 708 730 773 779 815 847 872",
		"IN": "219 260 317 463 574 765 812 930",
		"KS": "316 620 785 913",
		"KY": "270 364 502 606 859",
		"LA": "225 318 337 504 985",
		"MA": "339 351 413 508 617 774 781 857 978",
		"MD": "227 240 301 410 443 667",
		"ME": "207",
		"MI": "231 248 269 313 517 586 616 734 810 906 947 989",
		"MN": "218 320 507 612 651 763 952",
		"MO": "235 314 417 557 573 636 660 816 975",
		"MS": "228 601 662 769",
		"MT": "406",
		"NC": "252 336 472 704 743 828 910 919 980 984",
		"ND": "701",
		"NE": "308 402 531",
		"NH": "603",
		"NJ": "201 551 609 640 732 848 856 862 908 973",
		"NM": "505 575",
		"NV": "702 725 775",
		"NY": "212 315 329 332 347 363 516 518 585 607 631 646 680 716 718 838 845 914 917 929 934",
		"OH": "216 220 234 283 326 330 380 419 440 513 567 614 740 937",
		"OK": "405 539 572 580 918",
		"OR": "458 503 541 971",
		"PA": "215 223 267 272 412 445 484 570 582 610 717 724 814 835 878",
		"RI": "401",
		"SC": "803 821 839 843 854 864",
		"SD": "605",
		"TN": "423 615 629 731 865 901 931",
		"TX": "210 214 254 281 325 346 361 409 430 432 469 512 682 713 726 737 806 817 830 832 903 915 936 940 945 956 972 979",
		"UT": "385 435 801",
		"VA": "276 434 540 571 686 703 757 804 826 948",
		"VT": "802",
		"WA": "206 253 360 425 509 564",
		"WI": "262 274 353 414 534 608 715 920",
		"WV": "304 681",
		"WY": "307",
		"PR": "787 939",
		"VI": "340",
		"GU": "671",
		"MP": "670",
		"AS": "684",
	}
	m := make(map[string]string, 400)
	for state, codes := range byState {
		for i := 0; i+3 <= len(codes); i += 4 {
			m[codes[i:i+3]] = state
		}
	}
	return m
}()

// areaCodeZones gives the zones of area codes in multi-zone states. Every
// area code of a multi-zone state is listed (a test checks it); the others
// take their state's single zone.
var areaCodeZones = map[string][]string{
	// Alabama: 334 covers Phenix City (de facto Eastern).
	"205": {Central}, "251": {Central}, "256": {Central}, "334": {Central, Eastern}, "659": {Central}, "938": {Central},
	"907": {Alaska, Aleutian},
	// Arizona: 928 covers the Navajo Nation.
	"480": {Arizona}, "520": {Arizona}, "602": {Arizona}, "623": {Arizona}, "928": {Arizona, Mountain},
	// Florida: 850 and its overlay 448 cover the panhandle, both sides of the line.
	"239": {Eastern}, "305": {Eastern}, "321": {Eastern}, "324": {Eastern}, "352": {Eastern}, "386": {Eastern},
	"407": {Eastern}, "448": {Eastern, Central}, "561": {Eastern}, "645": {Eastern}, "656": {Eastern},
	"689": {Eastern}, "727": {Eastern}, "728": {Eastern}, "754": {Eastern}, "772": {Eastern}, "786": {Eastern},
	"813": {Eastern}, "850": {Eastern, Central}, "863": {Eastern}, "904": {Eastern}, "941": {Eastern}, "954": {Eastern},
	"208": {Mountain, Pacific}, "986": {Mountain, Pacific},
	// Indiana: 219 (northwest), 574 (Starke County) and 812/930 (southwest) reach Central counties.
	"219": {Central, Eastern}, "260": {Eastern}, "317": {Eastern}, "463": {Eastern}, "574": {Eastern, Central},
	"765": {Eastern}, "812": {Eastern, Central}, "930": {Eastern, Central},
	"316": {Central}, "620": {Central, Mountain}, "785": {Central, Mountain}, "913": {Central},
	// Kentucky: 270/364 are the western half (with Eastern Hardin County);
	// 606 reaches Central Clinton County.
	"270": {Central, Eastern}, "364": {Central, Eastern}, "502": {Eastern}, "606": {Eastern, Central}, "859": {Eastern},
	"231": {Eastern}, "248": {Eastern}, "269": {Eastern}, "313": {Eastern}, "517": {Eastern}, "586": {Eastern},
	"616": {Eastern}, "734": {Eastern}, "810": {Eastern}, "906": {Eastern, Central}, "947": {Eastern}, "989": {Eastern},
	"308": {Central, Mountain}, "402": {Central}, "531": {Central},
	"702": {Pacific}, "725": {Pacific}, "775": {Pacific, Mountain},
	"701": {Central, Mountain},
	"405": {Central}, "539": {Central}, "572": {Central}, "580": {Central, Mountain}, "918": {Central},
	"458": {Pacific, Mountain}, "503": {Pacific}, "541": {Pacific, Mountain}, "971": {Pacific},
	"605": {Central, Mountain},
	// Tennessee: 423 reaches Central Marion, Sequatchie and Bledsoe counties.
	"423": {Eastern, Central}, "615": {Central}, "629": {Central}, "731": {Central}, "865": {Eastern},
	"901": {Central}, "931": {Central},
	// Texas: 915 is El Paso; 432 reaches Culberson County (de facto Mountain).
	"210": {Central}, "214": {Central}, "254": {Central}, "281": {Central}, "325": {Central}, "346": {Central},
	"361": {Central}, "409": {Central}, "430": {Central}, "432": {Central, Mountain}, "469": {Central},
	"512": {Central}, "682": {Central}, "713": {Central}, "726": {Central}, "737": {Central}, "806": {Central},
	"817": {Central}, "830": {Central}, "832": {Central}, "903": {Central}, "915": {Mountain}, "936": {Central},
	"940": {Central}, "945": {Central}, "956": {Central}, "972": {Central}, "979": {Central},
}
