"""Developer tools shipped beside the product: the demo, the county generator. Never imported by the product."""
