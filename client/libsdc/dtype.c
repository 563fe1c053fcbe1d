/* libsdc's sample formats: their names, sizes and the name each travels under.  Any thread. */
#include <string.h>

#include "sdc-private.h"

static const char *const dtype_names[] = {
	[SDC_DTYPE_DEFAULT] = NULL, [SDC_FLOAT32] = "float32", [SDC_INT32] = "int32",
	[SDC_INT24] = "int24",	    [SDC_INT16] = "int16",     [SDC_INT8] = "int8",
	[SDC_UINT8] = "uint8",	    [SDC_FLOAT64] = "float64",
};

static const size_t dtype_sizes[] = {
	[SDC_DTYPE_DEFAULT] = 0, [SDC_FLOAT32] = 4, [SDC_INT32] = 4, [SDC_INT24] = 3,
	[SDC_INT16] = 2,	 [SDC_INT8] = 1,    [SDC_UINT8] = 1, [SDC_FLOAT64] = 8,
};

const char *sdc_dtype_name(sdc_dtype dtype)
{
	return (unsigned)dtype <= SDC_FLOAT64 ? dtype_names[dtype] : NULL;
}

sdc_dtype sdc_dtype_from_name(const char *name)
{
	for (int i = SDC_FLOAT32; name && i <= SDC_FLOAT64; i++)
		if (strcmp(dtype_names[i], name) == 0)
			return (sdc_dtype)i;
	return SDC_DTYPE_DEFAULT;
}

size_t sdc_dtype_size(sdc_dtype dtype)
{
	return (unsigned)dtype <= SDC_FLOAT64 ? dtype_sizes[dtype] : 0;
}

const char *sdc__dtype_wire_name(sdc_dtype dtype)
{
	return dtype == SDC_FLOAT64 ? "float32" : sdc_dtype_name(dtype);
}
