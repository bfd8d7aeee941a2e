// libpng: only the simplified API (png_image_*) is used, so libpng errors never longjmp through Swift.
#include <png.h>
