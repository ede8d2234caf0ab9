
/*
 * Audio buffers come from mmap: pages are touched only as audio arrives
 * and go back to the kernel when the buffer is freed, where malloc would
 * keep them resident for the worker's life.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <audio/ngx_http_rtagent_audio.h>


u_char *
ngx_http_rtagent_audio_alloc(size_t size, ngx_log_t *log)
{
    u_char  *p;

    p = mmap(NULL, size, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1,
             0);

    if (p == MAP_FAILED) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                      "rtagent: mmap(%uz) failed", size);
        return NULL;
    }

    return p;
}


void
ngx_http_rtagent_audio_free(u_char *p, size_t size, ngx_log_t *log)
{
    if (munmap(p, size) == -1) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                      "rtagent: munmap(%uz) failed", size);
    }
}
