/*
 * api_routes.h - the handlers, one per route of the table in api.c (the
 * only caller).  A handler is called only for an authorised GET or HEAD
 * whose query string, when the route takes one, parsed and is within
 * bounds; it answers exactly once, through api_reply.h.
 */
#ifndef AIC_API_ROUTES_H
#define AIC_API_ROUTES_H

struct api_call;

/* api_data.c: JSON */
void	api_healthz(struct api_call *);
void	api_usage(struct api_call *);
void	api_periods(struct api_call *);
void	api_blind(struct api_call *);
void	api_services(struct api_call *);
void	api_departments(struct api_call *);
void	api_status(struct api_call *);
void	api_sites(struct api_call *);
/* api_metrics.c: Prometheus text */
void	api_metrics(struct api_call *);
/* api_static.c: the dashboard's files under web_dir */
void	api_files(struct api_call *);

#endif /* AIC_API_ROUTES_H */
