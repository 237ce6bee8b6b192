/*
 * i18n.c - the texts.  English is the reference; Dutch follows the
 * Dutch government's writing guide for plain language (B1).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "out/report/i18n.h"

static const char *const text[T_N][LANG_N] = {
	[T_TITLE_WEEK] = {
	    "Generative-AI use: weekly report",
	    "Gebruik van generatieve AI: weekrapport" },
	[T_TITLE_QUARTER] = {
	    "Generative-AI use: quarterly report",
	    "Gebruik van generatieve AI: kwartaalrapport" },
	[T_WEEK_N] = {
	    "Week {1}, {2} · {3}",
	    "Week {1}, {2} · {3}" },
	[T_QUARTER_N] = {
	    "Q{1} {2} · {3}",
	    "Q{1} {2} · {3}" },
	[T_BADGE] = {
	    "Anonymous aggregates · no personal data",
	    "Anonieme totalen · geen persoonsgegevens" },
	[T_GENERATED] = {
	    "Generated {1} · time zone {2} · minimum group size {3}"
	    " devices",
	    "Opgesteld op {1} · tijdzone {2} · minimale groepsgrootte"
	    " {3} apparaten" },
	[T_VS_PREV] = {
	    "vs. {1}: {2}",
	    "t.o.v. {1}: {2}" },
	[T_KPI_DEVICES] = {
	    "Devices using generative AI",
	    "Apparaten die generatieve AI gebruiken" },
	[T_KPI_DEVICES_Q] = {
	    "Devices using generative AI, average per week",
	    "Apparaten die generatieve AI gebruiken, gemiddeld per week" },
	[T_KPI_DEPTS] = {
	    "Departments using generative AI",
	    "Afdelingen die generatieve AI gebruiken" },
	[T_OF_N] = {
	    "of {1}",
	    "van {1}" },
	[T_KPI_DEPTS_SUB] = {
	    "with a device figure in this report",
	    "met een apparaatcijfer in dit rapport" },
	[T_KPI_SHADOW] = {
	    "Shadow AI",
	    "Schaduw-AI" },
	[T_KPI_SHADOW_SUB] = {
	    "of connections went to services that are not sanctioned",
	    "van de verbindingen ging naar niet goedgekeurde diensten" },
	[T_KPI_SERVICES] = {
	    "Services in use",
	    "Diensten in gebruik" },
	[T_KPI_SERVICES_NEW] = {
	    "{1} seen for the first time",
	    "{1} voor het eerst gezien" },
	[T_CHANGE_VS] = {
	    "{1} vs. {2}",
	    "{1} t.o.v. {2}" },
	[T_CONNECTIONS] = {
	    "Connections",
	    "Verbindingen" },
	[T_UPLOADED] = {
	    "Uploaded",
	    "Geüpload" },
	[T_UPLOADED_SUB] = {
	    "sent to the services",
	    "naar de diensten verstuurd" },
	[T_BLOCKED] = {
	    "Blocked lookups",
	    "Geblokkeerde zoekopdrachten" },
	[T_BLOCKED_SUB] = {
	    "{1} of all lookups",
	    "{1} van alle zoekopdrachten" },
	[T_UNATTRIBUTED] = {
	    "Not attributable",
	    "Niet toe te wijzen" },
	[T_UNATTRIBUTED_SUB] = {
	    "{1} encrypted (ECH), {2} DNS-over-HTTPS connections",
	    "{1} versleutelde (ECH) en {2} DNS-over-HTTPS-verbindingen" },
	[T_AND] = {
	    " and ",
	    " en " },
	[T_FINDINGS] = {
	    "Key points",
	    "Kernpunten" },
	[T_F_NODATA] = {
	    "The database holds no use of generative-AI services in this"
	    " period.",
	    "De database bevat geen gebruik van generatieve-AI-diensten"
	    " in deze periode." },
	[T_F_DEV] = {
	    "{1} devices used generative-AI services.",
	    "{1} apparaten gebruikten generatieve-AI-diensten." },
	[T_F_DEV_CHANGE] = {
	    "{1} devices used generative-AI services, {2} compared with"
	    " {3}.",
	    "{1} apparaten gebruikten generatieve-AI-diensten, {2} ten"
	    " opzichte van {3}." },
	[T_F_DEV_Q] = {
	    "On average {1} devices a week used generative-AI services;"
	    " the busiest week had {2}.",
	    "Gemiddeld {1} apparaten per week gebruikten"
	    " generatieve-AI-diensten; in de drukste week waren het er"
	    " {2}." },
	[T_F_TOP] = {
	    "Most used: {1}.",
	    "Meest gebruikt: {1}." },
	[T_F_SHADOW] = {
	    "{1} of connections went to services the organisation has"
	    " not sanctioned, most of all {2}.",
	    "{1} van de verbindingen ging naar diensten die de"
	    " organisatie niet heeft goedgekeurd, vooral {2}." },
	[T_F_SHADOW_NONE] = {
	    "{1} of connections went to services the organisation has"
	    " not sanctioned.",
	    "{1} van de verbindingen ging naar diensten die de"
	    " organisatie niet heeft goedgekeurd." },
	[T_F_NEW] = {
	    "Seen for the first time: {1}.",
	    "Voor het eerst gezien: {1}." },
	[T_F_NONEW] = {
	    "No service was seen for the first time.",
	    "Er is geen dienst voor het eerst gezien." },
	[T_F_CN] = {
	    "{1} of connections went to vendors under Chinese"
	    " jurisdiction.",
	    "{1} van de verbindingen ging naar leveranciers onder"
	    " Chinese jurisdictie." },
	[T_F_BLOCKED] = {
	    "{1} lookups were blocked by the resolver's policy.",
	    "{1} zoekopdrachten zijn door het DNS-beleid geblokkeerd." },
	[T_F_BLIND] = {
	    "The counts are a lower bound: {1} of connections could not"
	    " be attributed (encrypted ClientHello), {2} connections"
	    " went to DNS-over-HTTPS resolvers, and {3} of connections"
	    " came from addresses outside every department.",
	    "De tellingen zijn een ondergrens: {1} van de verbindingen"
	    " kon niet worden toegewezen (versleutelde ClientHello), {2}"
	    " verbindingen gingen naar DNS-over-HTTPS-resolvers en {3}"
	    " van de verbindingen kwam van adressen buiten elke afdeling." },
	[T_CHART_WEEKS] = {
	    "Devices using generative AI, per week",
	    "Apparaten met generatieve AI, per week" },
	[T_CHART_SHADOW] = {
	    "Share of connections: sanctioned and shadow AI",
	    "Verbindingen: goedgekeurd en schaduw-AI" },
	[T_SANCTIONED] = {
	    "Sanctioned",
	    "Goedgekeurd" },
	[T_SHADOW] = {
	    "Shadow AI (not sanctioned)",
	    "Schaduw-AI (niet goedgekeurd)" },
	[T_SHADOW_SHORT] = {
	    "Shadow",
	    "Schaduw-AI" },
	[T_ORGANISATION] = {
	    "Organisation",
	    "Organisatie" },
	[T_DEPARTMENTS] = {
	    "Departments",
	    "Afdelingen" },
	[T_DEPARTMENT] = {
	    "Department",
	    "Afdeling" },
	[T_DEVICES] = {
	    "Devices",
	    "Apparaten" },
	[T_DEVICES_AVG] = {
	    "Devices per week (avg.)",
	    "Apparaten per week (gem.)" },
	[T_DEVICES_PEAK] = {
	    "Busiest week",
	    "Drukste week" },
	[T_CHANGE_W] = {
	    "vs. previous week",
	    "t.o.v. vorige week" },
	[T_CHANGE_Q] = {
	    "vs. previous quarter",
	    "t.o.v. vorig kwartaal" },
	[T_SHADOW_SHARE] = {
	    "Shadow share",
	    "Aandeel schaduw-AI" },
	[T_DEPT_NOTE] = {
	    "Devices are distinct devices per ISO week; a device counts"
	    " for the department its address belongs to. Every figure"
	    " is protected by a small random change, so the departments"
	    " need not add up to the organisation.",
	    "Apparaten zijn unieke apparaten per ISO-week; een apparaat"
	    " telt voor de afdeling waar zijn adres bij hoort. Elk"
	    " cijfer is beschermd door een kleine willekeurige"
	    " verandering, dus de afdelingen tellen niet per se op tot"
	    " het totaal van de organisatie." },
	[T_NONE] = {
	    "None.",
	    "Geen." },
	[T_SERVICE] = {
	    "Service",
	    "Dienst" },
	[T_ALL] = {
	    "All",
	    "Alle" },
	[T_ALL_SERVICES] = {
	    "All services",
	    "Alle diensten" },
	[T_SERVICES] = {
	    "Services",
	    "Diensten" },
	[T_CATEGORY] = {
	    "Category",
	    "Categorie" },
	[T_JURISDICTION] = {
	    "Jurisdiction",
	    "Jurisdictie" },
	[T_STATUS] = {
	    "Status",
	    "Status" },
	[T_NEW] = {
	    "new",
	    "nieuw" },
	[T_NEW_TITLE] = {
	    "Services seen for the first time",
	    "Voor het eerst geziene diensten" },
	[T_NEW_ORG] = {
	    "New in the organisation",
	    "Nieuw in de organisatie" },
	[T_NEW_DEPT] = {
	    "New in a department",
	    "Nieuw in een afdeling" },
	[T_VENDOR] = {
	    "Vendor",
	    "Leverancier" },
	[T_FIRST_SEEN] = {
	    "First seen",
	    "Voor het eerst gezien" },
	[T_NEW_NOTE] = {
	    "First seen is the first released week in which the"
	    " service, or the department's use of it, has a device"
	    " figure (not “–”). Earlier use too small to show is not"
	    " known to this report.",
	    "„Voor het eerst gezien” is de eerste vrijgegeven week waarin de"
	    " dienst, of het gebruik ervan door de afdeling, een"
	    " apparaatcijfer heeft (geen „–”). Eerder gebruik dat te"
	    " klein was om te tonen, kent dit rapport niet." },
	[T_CATEGORIES] = {
	    "Categories",
	    "Categorieën" },
	[T_CHART_CATEGORIES] = {
	    "Share of connections by category",
	    "Aandeel verbindingen per categorie" },
	[T_JURIS_TITLE] = {
	    "Vendor jurisdiction",
	    "Jurisdictie van de leverancier" },
	[T_CHART_JURIS] = {
	    "Share of connections by vendor jurisdiction",
	    "Aandeel verbindingen per jurisdictie" },
	[T_JURIS_NOTE] = {
	    "Where the vendor is established according to the service"
	    " catalog, not where the data is processed. Derived: each"
	    " row is the sum of the released figures of its services.",
	    "Waar de leverancier volgens de dienstencatalogus gevestigd"
	    " is, niet waar de gegevens verwerkt worden. Afgeleid: elke"
	    " rij is de som van de vrijgegeven cijfers van haar"
	    " diensten." },
	[T_UPLOAD_TITLE] = {
	    "Upload volume per department and service",
	    "Uploadvolume per afdeling en dienst" },
	[T_UPLOAD_NOTE] = {
	    "Bytes sent to the service over the counted connections: a"
	    " proxy for data-leak risk (how much left, not what it was).",
	    "Bytes die over de getelde verbindingen naar de dienst zijn"
	    " verstuurd: een indicatie voor het risico op datalekken"
	    " (hoeveel er is verstuurd, niet wat)." },
	[T_CHART_UPLOAD] = {
	    "Uploaded per service",
	    "Geüpload per dienst" },
	[T_BLOCKED_TITLE] = {
	    "Lookups blocked by the resolver's policy",
	    "Door het DNS-beleid geblokkeerde zoekopdrachten" },
	[T_BLOCKED_NOTE] = {
	    "Attempts: lookups of a service's names that the resolver"
	    " answered NXDOMAIN, as a DNS block list does.",
	    "Pogingen: zoekopdrachten naar namen van een dienst die de"
	    " resolver met NXDOMAIN beantwoordde, zoals bij een"
	    " DNS-blokkeerlijst." },
	[T_BLIND_TITLE] = {
	    "Blind spots: how far the counts undercount",
	    "Blinde vlekken: hoeveel de tellingen missen" },
	[T_BLIND_INTRO] = {
	    "Every figure in this report counts only the use the sensor"
	    " could see and attribute. At least {1} of connections could"
	    " not be attributed to a service; the other blind spots"
	    " below add an amount that cannot be measured.",
	    "Elk cijfer in dit rapport telt alleen het gebruik dat de"
	    " sensor kon zien en toewijzen. Minstens {1} van de"
	    " verbindingen kon niet aan een dienst worden toegewezen; de"
	    " andere blinde vlekken hieronder voegen daar een onmeetbare"
	    " hoeveelheid aan toe." },
	[T_MEASURE] = {
	    "Blind spot",
	    "Blinde vlek" },
	[T_VALUE] = {
	    "Count",
	    "Aantal" },
	[T_MEANING] = {
	    "What it means",
	    "Betekenis" },
	[T_BL_ECH] = {
	    "Encrypted ClientHello (ECH) connections not attributed",
	    "Niet toegewezen verbindingen met versleutelde ClientHello"
	    " (ECH)" },
	[T_BL_ECH_NOTE] = {
	    "ECH hides the service name: {1} of all connections (counted"
	    " plus unattributed); {2} ECH connections in all.",
	    "ECH verbergt de naam van de dienst: {1} van alle"
	    " verbindingen (geteld plus niet toegewezen); in totaal {2}"
	    " ECH-verbindingen." },
	[T_BL_DOH] = {
	    "Connections to DNS-over-HTTPS resolvers",
	    "Verbindingen met DNS-over-HTTPS-resolvers" },
	[T_BL_DOH_NOTE] = {
	    "Lookups sent this way are invisible, so lookups and blocked"
	    " attempts undercount; the connections that follow are still"
	    " counted.",
	    "Zoekopdrachten via deze weg zijn onzichtbaar, dus"
	    " zoekopdrachten en geblokkeerde pogingen worden te laag"
	    " geteld; de verbindingen die erop volgen, worden wel"
	    " geteld." },
	[T_BL_DROPS] = {
	    "Packets lost by the capture",
	    "Pakketten die bij het vastleggen verloren gingen" },
	[T_BL_DROPS_NOTE] = {
	    "{1} of the packets ({2} seen); lost packets can hide"
	    " connections.",
	    "{1} van de pakketten ({2} gezien); verloren pakketten"
	    " kunnen verbindingen verbergen." },
	[T_BL_UNASSIGNED] = {
	    "Connections from unmapped addresses (department"
	    " “Unassigned”)",
	    "Verbindingen vanaf adressen buiten elke afdeling (afdeling"
	    " „Niet toegewezen”)" },
	[T_BL_UNASSIGNED_NOTE] = {
	    "{1} of counted connections, by {2} devices: counted, but"
	    " not attributed to any department.",
	    "{1} van de getelde verbindingen, door {2} apparaten:"
	    " geteld, maar aan geen afdeling toe te wijzen." },
	[T_BL_NOSNI] = {
	    "TLS connections without a server name",
	    "TLS-verbindingen zonder servernaam" },
	[T_BL_NOSNI_NOTE] = {
	    "Cannot be matched to any service.",
	    "Deze zijn aan geen dienst te koppelen." },
	[T_BL_UNREADABLE] = {
	    "ClientHello not readable",
	    "ClientHello niet leesbaar" },
	[T_BL_UNREADABLE_NOTE] = {
	    "TLS connections whose ClientHello was too large or too"
	    " fragmented to read (more than 16 KB before the server name):"
	    " not counted.",
	    "TLS-verbindingen waarvan de ClientHello te groot of te"
	    " versnipperd was om te lezen (meer dan 16 KB vóór de"
	    " servernaam): niet geteld." },
	[T_BL_CONFLICT] = {
	    "Connections with conflicting copies",
	    "Verbindingen met tegenstrijdige kopieën" },
	[T_BL_CONFLICT_NOTE] = {
	    "Overlapping TCP segments or QUIC CRYPTO data with different"
	    " bytes (a crafted decoy, or corruption): which copy the"
	    " server took cannot be known, so they are not counted.",
	    "Overlappende TCP-segmenten of QUIC-CRYPTO-gegevens met"
	    " verschillende bytes (opzettelijke misleiding of"
	    " beschadiging): welke kopie de server gebruikte, is niet te"
	    " weten, dus worden ze niet geteld." },
	[T_BL_HOURS] = {
	    "Hours with sensor data",
	    "Uren met sensorgegevens" },
	[T_BL_HOURS_NOTE] = {
	    "{1} of {2} hours in the period; an hour without data had no"
	    " traffic or the sensor was down.",
	    "{1} van de {2} uur in de periode; een uur zonder gegevens"
	    " had geen verkeer of de sensor draaide niet." },
	[T_BL_LOST] = {
	    "Counts lost",
	    "Verloren tellingen" },
	[T_BL_LOST_NOTE] = {
	    "Dropped while memory was full and the database unavailable.",
	    "Verloren gegaan toen het geheugen vol was en de database"
	    " niet bereikbaar was." },
	[T_METHOD_TITLE] = {
	    "Methodology and privacy",
	    "Methode en privacy" },
	[T_M_WHAT] = {
	    "aicensus listens passively on the internet gateway. Per"
	    " hour, department and service it counts the DNS lookups and"
	    " the TLS and QUIC connections whose server name belongs to"
	    " one of the {1} generative-AI services in its catalog, and"
	    " it estimates the distinct devices behind them per day and"
	    " ISO week.",
	    "aicensus luistert passief mee op de internetgateway. Per"
	    " uur, afdeling en dienst telt het de DNS-zoekopdrachten en de"
	    " TLS- en QUIC-verbindingen waarvan de servernaam hoort bij"
	    " een van de {1} generatieve-AI-diensten in de catalogus, en"
	    " het schat het aantal unieke apparaten daarachter per dag"
	    " en ISO-week." },
	[T_M_COLLECTED_H] = {
	    "Collected:",
	    "Verzameld:" },
	[T_M_COLLECTED] = {
	    "per department and service, the numbers of lookups,"
	    " blocked lookups, connections, bytes and distinct devices;"
	    " per day, what the sensor could not see. Figures are"
	    " published once, at the end of each day and ISO week.",
	    "per afdeling en dienst de aantallen zoekopdrachten,"
	    " geblokkeerde zoekopdrachten, verbindingen, bytes en unieke"
	    " apparaten; per dag wat de sensor niet kon zien. Cijfers"
	    " worden één keer gepubliceerd, aan het eind van elke dag en"
	    " ISO-week." },
	[T_M_NOT_COLLECTED_H] = {
	    "Not collected:",
	    "Niet verzameld:" },
	[T_M_NOT_COLLECTED] = {
	    "IP or MAC addresses, user names, web addresses (URLs), page"
	    " content, prompts or answers, or any record per device or"
	    " person. Nothing in this report can be traced to a person.",
	    "IP- of MAC-adressen, gebruikersnamen, webadressen (URL's),"
	    " pagina-inhoud, prompts of antwoorden, of enig gegeven per"
	    " apparaat of persoon. Niets in dit rapport is naar een"
	    " persoon te herleiden." },
	[T_M_GROUP_H] = {
	    "Protection:",
	    "Bescherming:" },
	[T_M_GROUP] = {
	    "figures are protected with the cell key method. Every"
	    " figure may be moved a little, by a random amount that is"
	    " the same wherever the same devices are counted, so"
	    " comparing tables gives nothing away. A cell of fewer than"
	    " {1} devices shows as “–” or as {1}; “–” means none, or"
	    " too few devices to show, and the two cannot be told"
	    " apart. Rows and columns therefore need not add up to"
	    " their totals.",
	    "de cijfers zijn beschermd met de celsleutelmethode (cell"
	    " key method). Elk cijfer kan een beetje verschoven zijn,"
	    " met een willekeurige waarde die gelijk is overal waar"
	    " dezelfde apparaten geteld worden, zodat het vergelijken"
	    " van tabellen niets prijsgeeft. Een cel met minder dan {1}"
	    " apparaten staat er als „–” of als {1}; „–” betekent geen"
	    " gebruik, of te weinig apparaten om te tonen, en die twee"
	    " zijn niet te onderscheiden. Rijen en kolommen tellen daarom niet"
	    " per se op tot hun totaal." },
	[T_M_KEY_H] = {
	    "Key rotation:",
	    "Sleutelrotatie:" },
	[T_M_KEY] = {
	    "a device is counted as a keyed hash of its address. The"
	    " key is random, kept apart from the database, and"
	    " destroyed with every per-device trace when the ISO week"
	    " is released, so devices cannot be linked across weeks or"
	    " sites, or traced back to an address.",
	    "een apparaat wordt geteld als een gesleutelde hash van"
	    " zijn adres. De sleutel is willekeurig, staat los van de"
	    " database en wordt samen met elk spoor per apparaat"
	    " vernietigd zodra de ISO-week is vrijgegeven, zodat"
	    " apparaten niet over weken of locaties heen te koppelen"
	    " zijn, of naar een adres te herleiden." },
	[T_M_QUARTER] = {
	    "For that reason this quarterly roll-up cannot count"
	    " distinct devices over the quarter. It is derived from the"
	    " {1} released weeks: every count is the sum of the weekly"
	    " released figures; devices are shown as the average per"
	    " week and the busiest week, and their sum is device-weeks,"
	    " not devices.",
	    "Daarom kan dit kwartaaloverzicht geen unieke apparaten"
	    " over het hele kwartaal tellen. Het is afgeleid van de {1}"
	    " vrijgegeven weken: elke telling is de som van de"
	    " vrijgegeven weekcijfers; apparaten staan er als"
	    " gemiddelde per week en als drukste week, en hun som is"
	    " apparaatweken, geen apparaten." },
	[T_M_RETENTION_H] = {
	    "Retention:",
	    "Bewaartermijn:" },
	[T_M_RETENTION] = {
	    "aggregates older than {1} days are deleted.",
	    "totalen ouder dan {1} dagen worden verwijderd." },
	[T_M_RETENTION_CONF] = {
	    "aggregates are deleted after the retention period set in"
	    " the sensor's configuration (retention_days).",
	    "totalen worden verwijderd na de bewaartermijn uit de"
	    " configuratie van de sensor (retention_days)." },
	[T_M_DEFS_H] = {
	    "Definitions:",
	    "Definities:" },
	[T_M_DEFS] = {
	    "connections are TLS, QUIC and attributed ECH connections;"
	    " sanctioned services are those approved in the sensor's"
	    " configuration, every other service counts as shadow AI;"
	    " changes compare with the previous ISO week (or quarter).",
	    "verbindingen zijn TLS-, QUIC- en toegewezen"
	    " ECH-verbindingen; goedgekeurde diensten zijn de diensten"
	    " die in de configuratie van de sensor zijn goedgekeurd, elke"
	    " andere dienst telt als"
	    " schaduw-AI; veranderingen vergelijken met de vorige"
	    " ISO-week (of het vorige kwartaal)." },
	[T_LEGEND] = {
	    "“–”: none, or too few devices to show · figures may be"
	    " moved a little to protect small groups, so rows need not"
	    " add up to totals.",
	    "„–”: geen gebruik, of te weinig apparaten om te tonen · cijfers"
	    " kunnen een beetje verschoven zijn om kleine groepen te"
	    " beschermen, dus rijen tellen niet per se op tot hun"
	    " totaal." },
	[T_MATRIX] = {
	    "Devices per department and service",
	    "Apparaten per afdeling en dienst" },
	[T_MATRIX_Q] = {
	    "Devices per department and service (busiest week)",
	    "Apparaten per afdeling en dienst (drukste week)" },
	[T_MATRIX_NOTE] = {
	    "Distinct devices. A device may use several services, so a"
	    " column does not add up to its total.",
	    "Unieke apparaten. Een apparaat kan meerdere diensten"
	    " gebruiken, dus een kolom telt niet op tot het totaal." },
	[T_UNASSIGNED_SHORT] = {
	    "Unassigned",
	    "Niet toegewezen" },
	[T_WEEKLY_TITLE] = {
	    "Per week",
	    "Per week" },
	[T_WEEK] = {
	    "Week",
	    "Week" },
	[T_NO_DATA_FOR] = {
	    "{1} not released",
	    "{1} niet vrijgegeven" },
	[T_CHART_SHADOW_TOP] = {
	    "Share of connections: sanctioned and shadow AI (busiest"
	    " departments)",
	    "Aandeel verbindingen: goedgekeurd en schaduw-AI (drukste"
	    " afdelingen)" },
	[T_TOP_SERVICES] = {
	    "Most used services",
	    "Meest gebruikte diensten" },
	[T_SHARE_CONNS] = {
	    "Share of connections",
	    "Aandeel verbindingen" },
	[T_MATRIX_NOTE_Q] = {
	    "Distinct devices in the busiest week of the quarter for"
	    " that department and service; weeks cannot be added up. A"
	    " device may use several services, so a column does not add"
	    " up to its total.",
	    "Unieke apparaten in de drukste week van het kwartaal voor"
	    " die afdeling en dienst; weken zijn niet op te tellen. Een"
	    " apparaat kan meerdere diensten gebruiken, dus een kolom"
	    " telt niet op tot het totaal." },
	[T_MATRIX_MORE] = {
	    "{1} more services with less use are in the CSV and JSON"
	    " versions of this report.",
	    "Nog {1} diensten met minder gebruik staan in de CSV- en"
	    " JSON-versie van dit rapport." },
	[T_NEW_SERVICES_FIRST] = {
	    "New services (first seen)",
	    "Nieuwe diensten (voor het eerst gezien)" },
	[T_COVERAGE] = {
	    "the sensor covered {1} of {2} hours of this period (hours"
	    " with sensor data); the figures cover those hours only.",
	    "de sensor dekte {1} van de {2} uur van deze periode (uren"
	    " met sensorgegevens); de cijfers gaan alleen over die uren." },
	[T_UNCOVERED] = {
	    "Hours without sensor data (the sensor was not running, or"
	    " saw no traffic), by day: {1}.",
	    "Uren zonder gegevens van de sensor (de sensor draaide niet"
	    " of zag geen verkeer), per dag: {1}." },
	[T_UNCOVERED_DAY] = {
	    "{1} ({2} of {3} h)",
	    "{1} ({2} van {3} u)" },
	[T_INCOMPLETE] = {
	    "Released before the end of its period (the sensor stopped):"
	    " the figures are incomplete.",
	    "Vrijgegeven vóór het einde van de periode (de sensor"
	    " stopte): de cijfers zijn onvolledig." },
	[T_Q_WEEKS] = {
	    "{1} of the quarter's {2} weeks are released; this report"
	    " covers those.",
	    "{1} van de {2} weken van het kwartaal zijn vrijgegeven; dit"
	    " rapport gaat over die weken." },
	[T_UNPROTECTED] = {
	    "Released WITHOUT protection (minimum group size 1,"
	    " validation mode): not for distribution.",
	    "ZONDER bescherming vrijgegeven (minimale groepsgrootte 1,"
	    " validatiemodus): niet verspreiden." },
	[T_BL_LATE] = {
	    "Counts that arrived after their period was released",
	    "Tellingen die binnenkwamen na de vrijgave van hun periode" },
	[T_BL_LATE_NOTE] = {
	    "Released figures are never revised: these are not in any"
	    " figure of this report.",
	    "Vrijgegeven cijfers worden nooit herzien: deze zitten in"
	    " geen enkel cijfer van dit rapport." },
	[T_M_GROUP_NONE] = {
	    "these figures were released WITHOUT protection (minimum group"
	    " size 1, a validation mode): they are exact and must not be"
	    " distributed. In normal operation every figure is protected"
	    " with the cell key method.",
	    "deze cijfers zijn ZONDER bescherming vrijgegeven (minimale"
	    " groepsgrootte 1, een validatiemodus): ze zijn exact en mogen"
	    " niet verspreid worden. Normaal is elk cijfer beschermd met de"
	    " celsleutelmethode." },
	[T_NOT_RELEASED] = {
	    "not released",
	    "niet vrijgegeven" },
	[T_DEVICE_WEEKS] = {
	    "Device-weeks",
	    "Apparaatweken" },
	[T_SCOPE_ORG] = {
	    "Organisation (all sites)",
	    "Organisatie (alle locaties)" },
	[T_SCOPE_SITE] = {
	    "Site {1}",
	    "Locatie {1}" },
	[T_M_SITES_H] = {
	    "Several sites:",
	    "Meerdere locaties:" },
	[T_M_SITES] = {
	    "these figures combine the sensors of the organisation's"
	    " sites and were released once, centrally. Distinct devices"
	    " are counted per site and summed over the sites: a device's"
	    " address differs per site, so a device used at two sites"
	    " counts twice.",
	    "deze cijfers combineren de sensoren van de locaties van de"
	    " organisatie en zijn eenmaal centraal vrijgegeven. Unieke"
	    " apparaten worden per locatie geteld en over de locaties"
	    " opgeteld: het adres van een apparaat verschilt per locatie,"
	    " dus een apparaat dat op twee locaties wordt gebruikt, telt"
	    " twee keer." },
	[T_M_SITE] = {
	    "these figures are those of the sensor of site {1}, released"
	    " once, centrally. The organisation's figures sum distinct"
	    " devices per site (a device's address differs per site), so"
	    " a device used at two sites counts twice there.",
	    "deze cijfers zijn die van de sensor van locatie {1}, eenmaal"
	    " centraal vrijgegeven. In de cijfers van de organisatie worden"
	    " unieke apparaten per locatie opgeteld (het adres van een"
	    " apparaat verschilt per locatie), dus daar telt een apparaat"
	    " dat op twee locaties wordt gebruikt twee keer." },
	[T_SITES_TITLE] = {
	    "Sites",
	    "Locaties" },
	[T_SITES_INTRO] = {
	    "Each site's sensor ships its figures to the central database."
	    " A silent site shipped nothing the release used for at least"
	    " one week of this period (no hour with data): its traffic of"
	    " that week is missing from every figure above.",
	    "De sensor van elke locatie stuurt zijn cijfers naar de"
	    " centrale database. Een stille locatie stuurde voor minstens"
	    " één week van deze periode niets dat de vrijgave gebruikte"
	    " (geen uur met gegevens): het verkeer daar in die week"
	    " ontbreekt in alle cijfers hierboven." },
	[T_SITE] = {
	    "Site",
	    "Locatie" },
	[T_LAST_SEEN] = {
	    "Last seen",
	    "Laatst gezien" },
	[T_SITE_HOURS] = {
	    "Hours with data",
	    "Uren met gegevens" },
	[T_SILENT] = {
	    "silent",
	    "stil" },
	[T_REPORTING] = {
	    "reporting",
	    "levert gegevens" },
	[T_NEVER] = {
	    "never",
	    "nooit" },
	[T_NO_COMPARISON_WITH] = {
	    "no comparison with {1}",
	    "geen vergelijking met {1}" },
	[T_COVERAGE_MARK] = {
	    "Incomplete coverage:",
	    "Onvolledige dekking:" },
	[T_F_COVERAGE] = {
	    "Incomplete coverage: the sensor covered {1} of {2} hours of"
	    " this period, so these figures say nothing about the other"
	    " {3} hours.",
	    "Onvolledige dekking: de sensor dekte {1} van de {2} uur van"
	    " deze periode; over de andere {3} uur zeggen deze cijfers"
	    " niets." },
	[T_UNFINISHED] = {
	    "{1} is not over yet (it ends on {2}): the figures cover only"
	    " part of it.",
	    "{1} is nog niet voorbij (einde: {2}): de cijfers gaan maar"
	    " over een deel ervan." },
	[T_F_SHADOW_UP] = {
	    "The shadow share rose by {1} percentage points compared with"
	    " {2} (then {3}).",
	    "Het aandeel schaduw-AI steeg met {1} procentpunt ten opzichte"
	    " van {2} (toen {3})." },
	[T_F_SHADOW_DOWN] = {
	    "The shadow share fell by {1} percentage points compared with"
	    " {2} (then {3}).",
	    "Het aandeel schaduw-AI daalde met {1} procentpunt ten"
	    " opzichte van {2} (toen {3})." },
	[T_F_SHADOW_SAME] = {
	    "The shadow share is the same as in {2} ({3}).",
	    "Het aandeel schaduw-AI is gelijk aan dat in {2} ({3})." },
	[T_F_SHADOW_NOPREV] = {
	    "The shadow share cannot be compared with {1}: no figures of"
	    " {1} are released.",
	    "Het aandeel schaduw-AI is niet te vergelijken met {1}: van"
	    " {1} zijn geen cijfers vrijgegeven." },
	[T_F_SHADOW_NOCONN] = {
	    "The shadow share cannot be compared with {1}: it had no"
	    " connections to AI services.",
	    "Het aandeel schaduw-AI is niet te vergelijken met {1}: toen"
	    " waren er geen verbindingen met AI-diensten." },
};

static const char *const months[LANG_N][12] = {
	{ "January", "February", "March", "April", "May", "June", "July",
	  "August", "September", "October", "November", "December" },
	{ "januari", "februari", "maart", "april", "mei", "juni", "juli",
	  "augustus", "september", "oktober", "november", "december" },
};

static const struct {
	const char	*code;
	const char	*name[LANG_N];
} categories[] = {
	{ "chat", { "Chat assistants", "Chatassistenten" } },
	{ "api", { "APIs", "API's" } },
	{ "code", { "Coding", "Programmeren" } },
	{ "image", { "Images", "Afbeeldingen" } },
	{ "audio", { "Audio and speech", "Audio en spraak" } },
	{ "video", { "Video", "Video" } },
	{ "writing", { "Writing and translation", "Schrijven en vertalen" } },
	{ "search", { "Search", "Zoeken" } },
	{ "agent", { "Agents", "AI-agents" } },
	{ "other", { "Other", "Overig" } },
}, jurisdictions[] = {
	{ "EU", { "European Union", "Europese Unie" } },
	{ "US", { "United States", "Verenigde Staten" } },
	{ "CN", { "China", "China" } },
	{ "other", { "Other", "Overig" } },
};

int
i18n_lang_parse(const char *s, enum lang *out)
{
	if (strcasecmp(s, "en") == 0) {
		*out = LANG_EN;
		return 0;
	}
	if (strcasecmp(s, "nl") == 0) {
		*out = LANG_NL;
		return 0;
	}
	return -1;
}

const char *
i18n_lang_code(enum lang l)
{
	return l == LANG_NL ? "nl" : "en";
}

const char *
i18n(enum lang l, enum msg m)
{
	if ((unsigned)l >= LANG_N)
		l = LANG_EN;
	if ((unsigned)m >= T_N)
		return "";
	return text[m][l] ? text[m][l] : text[m][LANG_EN] ? text[m][LANG_EN] :
	    "";
}

const char *
i18n_month(enum lang l, int month)
{
	if (month < 1 || month > 12)
		return "?";
	return months[(unsigned)l < LANG_N ? l : LANG_EN][month - 1];
}

const char *
i18n_category(enum lang l, const char *code)
{
	size_t i;

	for (i = 0; i < sizeof(categories) / sizeof(categories[0]); i++)
		if (strcmp(categories[i].code, code) == 0)
			return categories[i].name[(unsigned)l < LANG_N ? l : 0];
	return code;
}

const char *
i18n_jurisdiction(enum lang l, const char *group)
{
	size_t i;

	for (i = 0; i < sizeof(jurisdictions) / sizeof(jurisdictions[0]); i++)
		if (strcmp(jurisdictions[i].code, group) == 0)
			return jurisdictions[i].name[(unsigned)l < LANG_N ?
			    l : 0];
	return group;
}

const char *
i18n_thousands(enum lang l)
{
	return l == LANG_NL ? "." : ",";
}

const char *
i18n_decimal(enum lang l)
{
	return l == LANG_NL ? "," : ".";
}

const char *
i18n_fill(char *buf, size_t n, const char *t, const char *a, const char *b,
    const char *c)
{
	const char *arg[3] = { a, b, c };
	size_t o = 0;

	if (n == 0)
		return buf;
	while (*t && o + 1 < n) {
		if (t[0] == '{' && t[1] >= '1' && t[1] <= '3' && t[2] == '}') {
			const char *v = arg[t[1] - '1'];
			size_t len = v ? strlen(v) : 0;

			if (len > n - 1 - o)
				len = n - 1 - o;
			memcpy(buf + o, v ? v : "", len);
			o += len;
			t += 3;
			continue;
		}
		buf[o++] = *t++;
	}
	buf[o] = '\0';
	return buf;
}
