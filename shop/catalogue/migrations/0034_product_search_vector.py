# Product search documents (shop.catalogue.search): the vector and its dirty mark, their
# indexes, and the vocabulary of known words with its trigram index.

import django.contrib.postgres.indexes
import django.contrib.postgres.search
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('catalogue', '0033_search_extensions'),
    ]

    operations = [
        migrations.CreateModel(
            name='SearchWord',
            fields=[
                ('word', models.CharField(max_length=64, primary_key=True, serialize=False)),
                ('products', models.PositiveIntegerField(default=0)),
            ],
        ),
        migrations.AddField(
            model_name='product',
            name='search_dirty',
            field=models.BooleanField(default=True, editable=False),
        ),
        migrations.AddField(
            model_name='product',
            name='search_vector',
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.AddIndex(
            model_name='product',
            index=django.contrib.postgres.indexes.GinIndex(fields=['search_vector'], name='product_search_vector_gin'),
        ),
        migrations.AddIndex(
            model_name='product',
            index=models.Index(condition=models.Q(('search_dirty', True)), fields=['search_dirty'], name='product_search_dirty'),
        ),
        migrations.AddIndex(
            model_name='searchword',
            index=django.contrib.postgres.indexes.GistIndex(fields=['word'], name='search_word_trgm', opclasses=['gist_trgm_ops']),
        ),
    ]
