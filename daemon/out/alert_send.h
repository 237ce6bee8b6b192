/*
 * alert_send.h - how an alert leaves: a JSON POST to a webhook over
 * plain HTTP/1.1, or a message through sendmail.  The daemon links no
 * HTTP or TLS client: an https:// receiver is reached through a local
 * relay (docs/ALERTS.md).
 */
#ifndef AIC_ALERT_SEND_H
#define AIC_ALERT_SEND_H

#include <stddef.h>

/*
 * One POST of body (JSON) to an http:// url; 0 when the receiver
 * answered 2xx within timeout_ms, -1 with err.  Only the status line of
 * the answer is read.
 */
int	 alert_http_post(const char *url, const char *body, int timeout_ms,
	    char *err, size_t errlen);

/*
 * One message through "prog -t -oi" on its standard input (a socket
 * pair, so a program that exits early is an error, not a SIGPIPE); 0
 * when it read everything and exited 0 within timeout_ms (killed
 * otherwise), -1 with err.
 */
int	 alert_sendmail(const char *prog, const char *msg, int timeout_ms,
	    char *err, size_t errlen);

/*
 * The mail of one alert to `to` (a checked list of addresses): headers,
 * its words in English (nl 0) or Dutch (nl 1), then the JSON; built
 * from body (the alert's JSON) alone.  malloc'd; NULL when body is not
 * JSON or out of memory.
 */
char	*alert_mail(const char *to, const char *body, int nl);

#endif /* AIC_ALERT_SEND_H */
