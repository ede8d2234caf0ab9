
/*
 * LD_PRELOAD shim for t/017: libcurl as if built without an asynchronous
 * resolver.  curl_version_info() answers what the real one does, less
 * the AsynchDNS feature bit.
 */


#define _GNU_SOURCE

#include <dlfcn.h>
#include <stddef.h>
#include <curl/curl.h>


curl_version_info_data *
curl_version_info(CURLversion age)
{
    static curl_version_info_data  info;

    curl_version_info_data  *(*real)(CURLversion);

    real = (curl_version_info_data *(*)(CURLversion))
               dlsym(RTLD_NEXT, "curl_version_info");

    if (real == NULL || real(age) == NULL) {
        return NULL;
    }

    info = *real(age);
    info.features &= ~CURL_VERSION_ASYNCHDNS;

    return &info;
}
