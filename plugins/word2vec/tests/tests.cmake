# word2vec's update kernels are tested directly against the numpy reference:
# the suite links the plugin's kernel library (see ../CMakeLists.txt).
target_link_libraries(test_word2vec PRIVATE word2vec_kernels PkgConfig::CJSON)
target_compile_options(test_word2vec PRIVATE -Wno-psabi)
target_link_libraries(test_sampling PRIVATE word2vec_kernels)
